//! `string_enum!`: the generated string enums, which keep values they do not know.

/// A string enum whose unknown values decode into `Unknown(String)` instead of failing:
/// a daemon newer than the spec never breaks an older client. The first variant is the
/// default.
#[doc(hidden)]
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(#[$first_meta:meta])* $first:ident = $first_value:literal,
            $($(#[$vmeta:meta])* $variant:ident = $value:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[$first_meta])* $first,
            $($(#[$vmeta])* $variant,)*
            /// A value this version of the spec does not list, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $name::$first => $first_value,
                    $($name::$variant => $value,)*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$first
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $first_value => $name::$first,
                    $($value => $name::$variant,)*
                    other => $name::Unknown(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok($name::from(value.as_ref()))
            }
        }

        impl $crate::ParamValue for $name {
            fn each_value(&self, out: &mut dyn FnMut(std::borrow::Cow<'_, str>)) {
                out(std::borrow::Cow::Borrowed(self.as_str()))
            }
        }
    };
}
