//! Where a server is, from environment variables: the `{NAME}_SERVICE_HOST`
//! and `{NAME}_SERVICE_PORT` the kubelet sets for each Service, or an explicit
//! `host:port`. Numeric addresses only: name look-ups crash statically linked
//! glibc programs in a `FROM scratch` image.

use std::net::{IpAddr, SocketAddr};

/// The address of the Service whose variables start with `prefix`
/// (`REDIS_MASTER` for the Service `redis-master`), read through `env`.
pub fn service_address(env: &dyn Fn(&str) -> Option<String>, prefix: &str) -> Result<SocketAddr, String> {
    let service = prefix.to_ascii_lowercase().replace('_', "-");
    let (host_var, port_var) = (format!("{prefix}_SERVICE_HOST"), format!("{prefix}_SERVICE_PORT"));
    let missing = |var: &str| {
        format!(
            "{var} is not set: the Service {service} did not exist when this pod started \
             (create the Service, then delete the pod so that its replacement gets the variables)"
        )
    };
    let host = env(&host_var).ok_or_else(|| missing(&host_var))?;
    let port = env(&port_var).ok_or_else(|| missing(&port_var))?;
    let ip: IpAddr = host
        .trim()
        .parse()
        .map_err(|_| format!("{host_var}={host:?} is not a numeric IP address (names are not looked up)"))?;
    let port = match port.trim().parse::<u16>() {
        Ok(port) if port > 0 => port,
        _ => return Err(format!("{port_var}={port:?} is not a port number (1-65535)")),
    };
    Ok(SocketAddr::new(ip, port))
}

/// A numeric `ip:port` (`127.0.0.1:6379`, `[::1]:6379`) from the variable `var`.
pub fn parse_address(var: &str, text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!("{var}={text:?} is not a numeric address and port like 127.0.0.1:6379 (names are not looked up)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn the_service_variables_give_the_address() {
        let env = lookup(&[("DB_SERVICE_SERVICE_HOST", "10.0.0.7"), ("DB_SERVICE_SERVICE_PORT", "6379")]);
        assert_eq!(service_address(&env, "DB_SERVICE").unwrap(), "10.0.0.7:6379".parse().unwrap());
    }

    #[test]
    fn missing_or_bad_variables_say_what_to_do() {
        let error = service_address(&lookup(&[]), "REDIS_MASTER").unwrap_err();
        assert!(error.contains("REDIS_MASTER_SERVICE_HOST is not set") && error.contains("Service redis-master"));
        let env = lookup(&[("REDIS_MASTER_SERVICE_HOST", "redis"), ("REDIS_MASTER_SERVICE_PORT", "6379")]);
        assert!(service_address(&env, "REDIS_MASTER").unwrap_err().contains("not a numeric IP address"));
        let env = lookup(&[("REDIS_MASTER_SERVICE_HOST", "10.0.0.7")]);
        assert!(service_address(&env, "REDIS_MASTER").unwrap_err().contains("REDIS_MASTER_SERVICE_PORT is not set"));
        let env = lookup(&[("REDIS_MASTER_SERVICE_HOST", "10.0.0.7"), ("REDIS_MASTER_SERVICE_PORT", "0")]);
        assert!(service_address(&env, "REDIS_MASTER").unwrap_err().contains("not a port number"));
    }

    #[test]
    fn an_explicit_address_is_numeric() {
        assert_eq!(parse_address("REDIS_ADDRESS", "127.0.0.1:6379").unwrap(), "127.0.0.1:6379".parse().unwrap());
        assert_eq!(parse_address("REDIS_ADDRESS", "[::1]:6379").unwrap().port(), 6379);
        let error = parse_address("REDIS_ADDRESS", "localhost:6379").unwrap_err();
        assert!(error.starts_with("REDIS_ADDRESS=\"localhost:6379\""), "{error}");
    }
}
