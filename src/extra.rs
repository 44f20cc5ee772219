//! [`Extra`]: the keys of a JSON object that its generated type does not name.

use serde::ser::SerializeMap;
use serde_json::Value;

/// The keys of a JSON object that its generated type does not name, with their values as
/// the engine sent them, in the order it sent them. Every generated struct has one, as its
/// `extra` field, so that a newer engine's fields (or an older one's, since removed from
/// the spec) reach you, and an inspect → modify → update round trip writes them back.
///
/// A handful of keys at most, usually none: a list, which costs nothing when empty and one
/// small allocation otherwise (a map would allocate a whole node for one key).
/// ```
/// let mut extra = berth::Extra::default();
/// extra.insert("GwPriority", serde_json::json!(10));
/// assert_eq!(extra.get("GwPriority"), Some(&serde_json::json!(10)));
/// ```
#[derive(Clone, Default)]
pub struct Extra(Vec<(String, Value)>);

/// Equal when they hold the same keys with the same values, in any order (as JSON objects).
impl PartialEq for Extra {
    fn eq(&self, other: &Extra) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Extra {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`, keeping its place if it is there; gives back the value it replaced.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.get_mut(&key) {
            Some(old) => Some(std::mem::replace(old, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// The keys and values, in the order the engine sent them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Adds a key read from the engine: no check for a repeated key (JSON objects from the
    /// engines have none, and the last would win on the engine's side too).
    pub(crate) fn push_read(&mut self, key: String, value: Value) {
        self.0.push((key, value));
    }
}

impl std::fmt::Debug for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Extra {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Extra {
        let mut extra = Extra::default();
        for (k, v) in iter {
            extra.insert(k, v);
        }
        extra
    }
}

impl IntoIterator for Extra {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl serde::Serialize for Extra {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for Extra {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Extra, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        Ok(map.into_iter().collect())
    }
}
