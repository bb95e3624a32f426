//! A Redis client that sends one command per TCP connection: nothing to keep
//! alive or reconnect when the server moves (a new pod behind the same
//! Service), at the price of a connection per request.

use std::fmt;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::resp::{self, Value};

/// Bounds connecting, sending and waiting for a reply.
pub const TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug)]
pub enum RedisError {
    Connect {
        address: SocketAddr,
        source: io::Error,
    },
    Io {
        address: SocketAddr,
        source: io::Error,
    },
    /// An error reply (`-ERR ...`).
    Server {
        address: SocketAddr,
        command: String,
        message: String,
    },
    Unexpected {
        address: SocketAddr,
        command: String,
        reply: Value,
        expected: &'static str,
    },
}

impl fmt::Display for RedisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedisError::Connect { address, source } => write!(f, "cannot connect to Redis at {address}: {source}"),
            RedisError::Io { address, source } => write!(f, "talking to Redis at {address}: {source}"),
            RedisError::Server { address, command, message } => {
                write!(f, "Redis at {address} refused {command}: {message}")
            }
            RedisError::Unexpected { address, command, reply, expected } => {
                write!(f, "Redis at {address} answered {command} with {reply:?}, not {expected}")
            }
        }
    }
}

impl std::error::Error for RedisError {}

#[derive(Debug, Clone, Copy)]
pub struct Redis {
    address: SocketAddr,
}

impl Redis {
    pub fn new(address: SocketAddr) -> Redis {
        Redis { address }
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sends `args` as one command; an error reply is an error.
    pub fn command(&self, args: &[&[u8]]) -> Result<Value, RedisError> {
        let address = self.address;
        let stream =
            TcpStream::connect_timeout(&address, TIMEOUT).map_err(|source| RedisError::Connect { address, source })?;
        let io_error = |source| RedisError::Io { address, source };
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io_error)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(io_error)?;
        (&stream).write_all(&resp::encode_command(args)).map_err(io_error)?;
        match resp::read_value(&mut BufReader::new(&stream)).map_err(io_error)? {
            Value::Error(message) => Err(RedisError::Server { address, command: name(args), message }),
            reply => Ok(reply),
        }
    }

    /// A command answered with an integer (`RPUSH`, `HINCRBY`, ...).
    pub fn integer(&self, args: &[&[u8]]) -> Result<i64, RedisError> {
        match self.command(args)? {
            Value::Integer(n) => Ok(n),
            reply => Err(self.unexpected(args, reply, "an integer")),
        }
    }

    /// A command answered with an array of strings (`LRANGE`, `HGETALL`, ...);
    /// bytes that are not UTF-8 become U+FFFD.
    pub fn strings(&self, args: &[&[u8]]) -> Result<Vec<String>, RedisError> {
        let reply = self.command(args)?;
        let Value::Array(items) = &reply else { return Err(self.unexpected(args, reply, "an array")) };
        let strings: Option<Vec<String>> = items
            .iter()
            .map(|item| match item {
                Value::Bulk(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                _ => None,
            })
            .collect();
        strings.ok_or_else(|| self.unexpected(args, reply, "an array of strings"))
    }

    fn unexpected(&self, args: &[&[u8]], reply: Value, expected: &'static str) -> RedisError {
        RedisError::Unexpected { address: self.address, command: name(args), reply, expected }
    }
}

/// The command's name, for messages (its arguments may be long or private).
fn name(args: &[&[u8]]) -> String {
    args.first().map(|name| String::from_utf8_lossy(name).into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Read};
    use std::net::TcpListener;

    /// A one-connection server that checks the command and sends `reply`.
    fn server(expect: &'static [u8], reply: &'static [u8]) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut got = vec![0; expect.len()];
            BufReader::new(&stream).read_exact(&mut got).unwrap();
            assert_eq!(got, expect);
            (&stream).write_all(reply).unwrap();
        });
        address
    }

    #[test]
    fn integers_strings_and_error_replies() {
        let redis = Redis::new(server(b"*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", b":3\r\n"));
        assert_eq!(redis.integer(&[b"INCR", b"k"]).unwrap(), 3);
        let redis = Redis::new(server(b"*1\r\n$4\r\nKEYS\r\n", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"));
        assert_eq!(redis.strings(&[b"KEYS"]).unwrap(), ["a", "b"]);
        let redis = Redis::new(server(b"*1\r\n$4\r\nINCR\r\n", b"-ERR wrong number of arguments\r\n"));
        let error = redis.integer(&[b"INCR"]).unwrap_err().to_string();
        assert!(error.contains("refused INCR: ERR wrong number of arguments"), "{error}");
        let redis = Redis::new(server(b"*1\r\n$4\r\nINCR\r\n", b"+OK\r\n"));
        let error = redis.integer(&[b"INCR"]).unwrap_err().to_string();
        assert!(error.contains("not an integer"), "{error}");
    }

    #[test]
    fn a_closed_port_names_the_address() {
        let address = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let error = Redis::new(address).command(&[b"PING"]).unwrap_err();
        assert!(matches!(error, RedisError::Connect { .. }), "{error:?}");
        assert!(error.to_string().contains(&address.to_string()), "{error}");
    }

    #[test]
    fn a_server_that_closes_without_replying_is_an_io_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            BufReader::new(&stream).fill_buf().unwrap();
        });
        let error = Redis::new(address).command(&[b"PING"]).unwrap_err();
        assert!(matches!(error, RedisError::Io { .. }), "{error:?}");
    }
}
