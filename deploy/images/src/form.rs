//! URL-encoded text: the query of `GET /add?entry=...` and the body of an
//! HTML form (`application/x-www-form-urlencoded`).

/// The first value of `name` in `text` (`a=1&b=2`), decoded.
pub fn field(text: &str, name: &str) -> Option<String> {
    text.split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find_map(|(key, value)| (decode(key) == name).then(|| decode(value)))
}

/// Decodes `+` as a space and `%XX` as the byte XX; a `%` without two hex
/// digits stays as it is, and bytes that are not UTF-8 become U+FFFD.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(index + 1..index + 3).and_then(|digits| std::str::from_utf8(digits).ok());
                match hex.and_then(|digits| u8::from_str_radix(digits, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_and_decoded() {
        assert_eq!(field("entry=Hello+world%21&x=1", "entry").as_deref(), Some("Hello world!"));
        assert_eq!(field("x=1&entry=caf%C3%A9", "entry").as_deref(), Some("café"));
        assert_eq!(field("entry", "entry").as_deref(), Some(""));
        assert_eq!(field("x=1", "entry"), None);
        assert_eq!(field("", "entry"), None);
        assert_eq!(field("a%3Db=c", "a=b").as_deref(), Some("c"));
    }

    #[test]
    fn broken_escapes_stay_as_they_are() {
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%FF"), "\u{FFFD}");
        assert_eq!(decode("a%2Bb"), "a+b");
    }
}
