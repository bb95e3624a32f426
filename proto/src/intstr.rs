//! JSON form of [`IntOrString`]: a bare number or a bare string.

use crate::IntOrString;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

impl IntOrString {
    pub fn int(value: i32) -> Self {
        IntOrString { int_val: value, str_val: String::new() }
    }

    pub fn string(value: impl Into<String>) -> Self {
        IntOrString { int_val: 0, str_val: value.into() }
    }

    /// The port name, when this is a name rather than a number.
    pub fn as_name(&self) -> Option<&str> {
        (!self.str_val.is_empty()).then_some(self.str_val.as_str())
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.int_val),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_name() {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i32(self.int_val),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntOrStringVisitor;
        impl Visitor<'_> for IntOrStringVisitor {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number or a port name")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                i32::try_from(v).map(IntOrString::int).map_err(|_| E::custom(format!("port {v} is out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i32::try_from(v).map(IntOrString::int).map_err(|_| E::custom(format!("port {v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::string(v))
            }
        }
        deserializer.deserialize_any(IntOrStringVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_round_trip() {
        let n: IntOrString = serde_json::from_str("8080").unwrap();
        assert_eq!(n, IntOrString::int(8080));
        assert_eq!(serde_json::to_string(&n).unwrap(), "8080");
        let s: IntOrString = serde_json::from_str("\"http\"").unwrap();
        assert_eq!(s.as_name(), Some("http"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"http\"");
        assert!(serde_json::from_str::<IntOrString>("99999999999").is_err());
        assert!(serde_json::from_str::<IntOrString>("true").is_err());
    }
}
