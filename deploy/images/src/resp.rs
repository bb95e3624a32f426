//! RESP, the Redis serialisation protocol (version 2): commands are arrays of
//! bulk strings; replies are simple strings, errors, integers, bulk strings,
//! arrays, or null.

use std::io::{self, BufRead, Read};

/// Bounds one bulk string of a reply.
pub const MAX_BULK_BYTES: usize = 16 * 1024 * 1024;
/// Bounds the element count of one array of a reply.
pub const MAX_ARRAY_LEN: usize = 1024 * 1024;
/// Bounds nested arrays.
const MAX_DEPTH: usize = 8;
/// Bounds one line (type byte, text or length, CRLF).
const MAX_LINE_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Array(Vec<Value>),
    /// A null bulk string or array (`$-1`, `*-1`).
    Null,
}

/// A command as Redis reads it: `*<n>` then `$<len>` and the bytes of each argument.
pub fn encode_command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads one reply.
pub fn read_value<R: BufRead>(reader: &mut R) -> io::Result<Value> {
    read_nested(reader, 0)
}

fn read_nested<R: BufRead>(reader: &mut R, depth: usize) -> io::Result<Value> {
    let line = read_line(reader)?;
    let mut chars = line.chars();
    let kind = chars.next();
    let rest = chars.as_str();
    match kind {
        Some('+') => Ok(Value::Simple(rest.to_string())),
        Some('-') => Ok(Value::Error(rest.to_string())),
        Some(':') => rest.parse().map(Value::Integer).map_err(|_| invalid(format!("bad integer reply {rest:?}"))),
        Some('$') => match length(rest, MAX_BULK_BYTES)? {
            None => Ok(Value::Null),
            Some(len) => {
                let mut data = vec![0; len + 2];
                reader.read_exact(&mut data)?;
                if !data.ends_with(b"\r\n") {
                    return Err(invalid(format!("a bulk string of {len} bytes does not end with CRLF")));
                }
                data.truncate(len);
                Ok(Value::Bulk(data))
            }
        },
        Some('*') => match length(rest, MAX_ARRAY_LEN)? {
            None => Ok(Value::Null),
            Some(_) if depth >= MAX_DEPTH => Err(invalid(format!("arrays nested over {MAX_DEPTH} deep"))),
            Some(len) => (0..len).map(|_| read_nested(reader, depth + 1)).collect::<io::Result<_>>().map(Value::Array),
        },
        _ => Err(invalid(format!("unknown reply type in {line:?}"))),
    }
}

/// One CRLF-terminated line without its CRLF; never empty.
fn read_line<R: BufRead>(reader: &mut R) -> io::Result<String> {
    let mut line = Vec::new();
    reader.by_ref().take(MAX_LINE_BYTES).read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
    }
    if !line.ends_with(b"\r\n") || line.len() < 3 {
        return Err(invalid(format!("bad reply line {:?}", String::from_utf8_lossy(&line))));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|e| invalid(format!("a reply line is not UTF-8: {e}")))
}

/// A length, `None` for -1 (null), bounded by `max`.
fn length(text: &str, max: usize) -> io::Result<Option<usize>> {
    match text.parse::<i64>() {
        Ok(-1) => Ok(None),
        Ok(len) if (0..=max as i64).contains(&len) => Ok(Some(len as usize)),
        Ok(len) => Err(invalid(format!("length {len} is out of range (at most {max})"))),
        Err(_) => Err(invalid(format!("bad length {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> io::Result<Value> {
        read_value(&mut io::BufReader::new(bytes))
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            encode_command(&[b"RPUSH", b"guestbook", "a\r\nb é".as_bytes()]),
            b"*3\r\n$5\r\nRPUSH\r\n$9\r\nguestbook\r\n$7\r\na\r\nb \xc3\xa9\r\n"
        );
        assert_eq!(encode_command(&[b"PING"]), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(encode_command(&[b"SET", b"k", b""]), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn every_reply_type_is_read() {
        assert_eq!(parse(b"+OK\r\n").unwrap(), Value::Simple("OK".into()));
        assert_eq!(parse(b"-ERR wrong type\r\n").unwrap(), Value::Error("ERR wrong type".into()));
        assert_eq!(parse(b":-42\r\n").unwrap(), Value::Integer(-42));
        assert_eq!(parse(b"$4\r\na\r\nb\r\n").unwrap(), Value::Bulk(b"a\r\nb".to_vec()));
        assert_eq!(parse(b"$0\r\n\r\n").unwrap(), Value::Bulk(Vec::new()));
        assert_eq!(parse(b"$-1\r\n").unwrap(), Value::Null);
        assert_eq!(parse(b"*-1\r\n").unwrap(), Value::Null);
        assert_eq!(parse(b"*0\r\n").unwrap(), Value::Array(Vec::new()));
        assert_eq!(
            parse(b"*3\r\n$1\r\na\r\n:7\r\n*1\r\n+x\r\n").unwrap(),
            Value::Array(vec![
                Value::Bulk(b"a".to_vec()),
                Value::Integer(7),
                Value::Array(vec![Value::Simple("x".into())])
            ])
        );
    }

    #[test]
    fn replies_in_a_row_are_read_one_at_a_time() {
        let mut reader = io::BufReader::new(&b":1\r\n:2\r\n"[..]);
        assert_eq!(read_value(&mut reader).unwrap(), Value::Integer(1));
        assert_eq!(read_value(&mut reader).unwrap(), Value::Integer(2));
        assert_eq!(read_value(&mut reader).unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn malformed_truncated_or_oversized_replies_are_errors() {
        let message = |bytes: &[u8]| parse(bytes).unwrap_err().to_string();
        assert!(message(b"?what\r\n").contains("unknown reply type"));
        assert!(message("é\r\n".as_bytes()).contains("unknown reply type"));
        assert!(message(b":12a\r\n").contains("bad integer"));
        assert!(message(b"+OK\n").contains("bad reply line"));
        assert!(message(b"\r\n").contains("bad reply line"));
        assert!(message(b"$3\r\nabcd\r\n").contains("does not end with CRLF"));
        assert!(message(b"$-2\r\n").contains("out of range"));
        assert!(message(b"$99999999999\r\n").contains("out of range"));
        assert!(message(b"*x\r\n").contains("bad length"));
        assert!(message(&b"*1\r\n".repeat(20)).contains("nested"));
        assert_eq!(parse(b"$5\r\nab").unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(parse(b"*2\r\n:1\r\n").unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
