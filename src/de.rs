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

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

fn into_list(value: Option<StringOrList>) -> Option<Vec<String>> {
    value.map(|v| match v {
        StringOrList::One(s) if s.is_empty() => Vec::new(),
        StringOrList::One(s) => vec![s],
        StringOrList::Many(list) => list,
    })
}

/// A list of strings that a daemon may send as one string (`"Entrypoint": "sh"`) or `null`.
pub fn string_or_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(into_list(Option::<StringOrList>::deserialize(deserializer)?).unwrap_or_default())
}

/// The optional form of [`string_or_list`].
pub fn optional_string_or_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    Ok(into_list(Option::<StringOrList>::deserialize(
        deserializer,
    )?))
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
