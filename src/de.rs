//! Serde helpers the generated types use.

use serde::{Deserialize, Deserializer};

/// A required value that a daemon may still send as `null` (arrays and maps above all):
/// `null` decodes as the type's default instead of failing the whole response.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// One string or a list of them, read by looking at the value once (an untagged enum would
/// buffer it and try each form in turn).
struct StringOrList;

impl<'de> serde::de::Visitor<'de> for StringOrList {
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
pub fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(deserializer
        .deserialize_option(StringOrList)?
        .unwrap_or_default())
}

/// The optional form of [`string_or_list`].
pub fn optional_string_or_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    deserializer.deserialize_option(StringOrList)
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Config {
        #[serde(default, deserialize_with = "super::optional_string_or_list")]
        entrypoint: Option<Vec<String>>,
        #[serde(default, deserialize_with = "super::null_as_default")]
        env: Vec<String>,
    }

    #[test]
    fn strings_lists_and_nulls_decode() {
        let parse = |s: &str| serde_json::from_str::<Config>(s).unwrap();
        assert_eq!(
            parse(r#"{"entrypoint": "sh", "env": null}"#),
            Config {
                entrypoint: Some(vec!["sh".into()]),
                env: vec![]
            }
        );
        assert_eq!(
            parse(r#"{"entrypoint": ["a", "b"]}"#).entrypoint,
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse(r#"{"entrypoint": null}"#).entrypoint, None);
        assert_eq!(parse(r#"{}"#).entrypoint, None);
    }
}
