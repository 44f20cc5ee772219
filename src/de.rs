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
