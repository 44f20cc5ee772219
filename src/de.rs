//! Serde support for the generated types: objects read key by key, and the leniency real
//! daemons need (`null` for required values, one string for a list of strings).

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A generated object type: starts from its default and takes the fields it knows.
pub(crate) trait Object: Default {
    /// What the error for a non-object says was expected.
    const EXPECTING: &'static str;

    /// Where the keys the type does not name are kept.
    fn extra(&mut self) -> &mut crate::Extra;

    /// Reads the value of `key` into its field; `false` when the type has no such field
    /// (the value then goes to [`Object::extra`]).
    fn read_field<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;
}

/// Deserializes an [`Object`] from a map (a JSON object).
pub(crate) fn object<'de, D: Deserializer<'de>, T: Object>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        while let Some(Key(key)) = map.next_key()? {
            if !value.read_field(&key, &mut map)? {
                // A `null` is not kept: it says no more than a missing key, and the
                // engines send many (`"DNSNames": null`).
                let unknown: serde_json::Value = map.next_value()?;
                if !unknown.is_null() {
                    note_untyped::<T>(&key);
                    value.extra().push_read(key.into_owned(), unknown);
                }
            }
        }
        Ok(value)
    }
}

thread_local! {
    /// While a round trip decodes: the `Type.Key`s that went to an `extra` map.
    static UNTYPED: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

/// Notes a key kept untyped, when a round trip is listening (only unknown keys pay).
fn note_untyped<T>(key: &str) {
    UNTYPED.with(|untyped| {
        if let Some(list) = untyped.borrow_mut().as_mut() {
            let type_name = std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("?");
            list.push(format!("{type_name}.{key}"));
        }
    });
}

/// A declared response header, typed: `None` when the engine did not send it, an error
/// naming the header (its value kept) when it does not read as its type.
pub(crate) fn header<T: crate::values::HeaderValue>(
    headers: &crate::Headers,
    name: &str,
    operation: &str,
) -> crate::Result<Option<T>> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    T::from_header(value)
        .map(Some)
        .map_err(|message| crate::Error::Decode {
            operation: operation.to_string(),
            path: format!("header {name}"),
            message,
            body: bytes::Bytes::copy_from_slice(value.as_bytes()),
        })
}

/// A typed answer as berth's type reads `body`, written back as JSON: what a typed call
/// keeps of what the engine sent (the generated `round_trip` of each version module).
pub(crate) fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    operation: &str,
    body: &[u8],
) -> crate::Result<crate::dynamic::RoundTrip> {
    let body = bytes::Bytes::copy_from_slice(body);
    UNTYPED.with(|untyped| *untyped.borrow_mut() = Some(Vec::new()));
    let typed = crate::response::decode_json::<T>(operation, &body);
    let untyped = UNTYPED.with(|untyped| untyped.borrow_mut().take().unwrap_or_default());
    let json = serde_json::to_value(typed?).map_err(|e| crate::Error::Decode {
        operation: operation.to_string(),
        path: String::new(),
        message: format!("cannot write the typed answer back as JSON: {e}"),
        body,
    })?;
    Ok(crate::dynamic::RoundTrip { json, untyped })
}

/// The round trip of an answer typed `()`.
pub(crate) fn unit_round_trip() -> crate::Result<crate::dynamic::RoundTrip> {
    Ok(crate::dynamic::RoundTrip::default())
}

/// An object key, borrowed from the input when it can be (no allocation per key).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A required value that a daemon may still send as `null` (arrays and maps above all):
/// `null` decodes as the type's default instead of failing the whole response.
pub(crate) struct NullAsDefault<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for NullAsDefault<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(NullAsDefault(
            Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
        ))
    }
}

impl<T: serde::Serialize> serde::Serialize for NullAsDefault<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// One string or a list of them, read by looking at the value once (an untagged enum would
/// buffer it and try each form in turn).
struct StringOrList;

impl<'de> Visitor<'de> for StringOrList {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string, a list of strings or null")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Some(if value.is_empty() {
            Vec::new()
        } else {
            vec![value.to_string()]
        }))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<String>()? {
            list.push(item);
        }
        Ok(Some(list))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(StringOrList)
    }
}

/// A list of strings that a daemon may send as one string (`"Entrypoint": "sh"`) or `null`.
pub(crate) struct StringList(pub(crate) Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = deserializer.deserialize_option(StringOrList)?;
        Ok(StringList(list.unwrap_or_default()))
    }
}

/// The optional form of [`StringList`]: `null` stays `None`.
pub(crate) struct OptionalStringList(pub(crate) Option<Vec<String>>);

impl<'de> Deserialize<'de> for OptionalStringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(OptionalStringList(
            deserializer.deserialize_option(StringOrList)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Config {
        entrypoint: Option<Vec<String>>,
        env: Vec<String>,
        cmd: Vec<String>,
        labels: Option<std::collections::HashMap<String, String>>,
        extra: crate::Extra,
    }

    impl Object for Config {
        const EXPECTING: &'static str = "a Config object";
        fn extra(&mut self) -> &mut crate::Extra {
            &mut self.extra
        }
        fn read_field<'de, A: MapAccess<'de>>(
            &mut self,
            key: &str,
            map: &mut A,
        ) -> Result<bool, A::Error> {
            match key {
                "Entrypoint" => self.entrypoint = map.next_value::<OptionalStringList>()?.0,
                "Env" => self.env = map.next_value::<NullAsDefault<_>>()?.0,
                "Cmd" => self.cmd = map.next_value::<StringList>()?.0,
                "Labels" => self.labels = map.next_value()?,
                _ => return Ok(false),
            }
            Ok(true)
        }
    }

    impl<'de> Deserialize<'de> for Config {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            object(deserializer)
        }
    }

    #[test]
    fn strings_lists_and_nulls_decode() {
        let parse = |s: &str| serde_json::from_str::<Config>(s).unwrap();
        assert_eq!(
            parse(r#"{"Entrypoint": "sh", "Env": null, "Cmd": "top", "Unknown": {"a": [1]}}"#),
            Config {
                entrypoint: Some(vec!["sh".into()]),
                env: vec![],
                cmd: vec!["top".into()],
                labels: None,
                extra: [("Unknown", serde_json::json!({"a": [1]}))]
                    .into_iter()
                    .collect(),
            }
        );
        assert_eq!(
            parse(r#"{"Entrypoint": ["a", "b"], "Cmd": null}"#).entrypoint,
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse(r#"{"Entrypoint": null}"#).entrypoint, None);
        assert_eq!(parse(r#"{}"#), Config::default());
        let escaped = parse(r#"{"Lab\u0065ls": {"k": "v"}}"#);
        assert_eq!(
            escaped.labels.unwrap()["k"],
            "v",
            "escaped keys are read too"
        );
    }

    #[test]
    fn errors_name_the_field_path() {
        let mut json = serde_json::Deserializer::from_str(r#"{"Env": [1]}"#);
        let error = serde_path_to_error::deserialize::<_, Config>(&mut json).unwrap_err();
        assert_eq!(error.path().to_string(), "Env[0]");
        let error = serde_json::from_str::<Config>("[]").unwrap_err();
        assert!(error.to_string().contains("a Config object"), "{error}");
    }
}
