//! A UDP responder beside a program's web server: every datagram on the
//! same port is answered with one fixed reply, so tests can follow UDP flows
//! through Services (busybox's nc has no UDP mode).

use std::net::UdpSocket;

/// Answers every datagram to `port` with `reply`, in a thread of its own.
/// The stop signals are blocked first, in the calling thread too, so that
/// thread inherits the mask: only [`serve`](crate::server::serve)'s signal
/// thread may take them (a container's PID 1 ignores a SIGTERM any other
/// thread takes).
pub fn answer_every_datagram(program: &'static str, port: u16, reply: String) -> std::io::Result<()> {
    crate::block_signals(&crate::server::STOP_SIGNALS)?;
    let socket = UdpSocket::bind(("0.0.0.0", port))?;
    std::thread::spawn(move || {
        let mut datagram = [0u8; 1500];
        loop {
            match socket.recv_from(&mut datagram) {
                Ok((_, peer)) => {
                    if let Err(e) = socket.send_to(reply.as_bytes(), peer) {
                        eprintln!("{program}: answering {peer} over UDP: {e}");
                    }
                }
                Err(e) => eprintln!("{program}: receiving UDP: {e}"),
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn every_datagram_gets_the_reply() {
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        answer_every_datagram("test", port, "Hello from here!\n".into()).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        for _ in 0..2 {
            client.send_to(b"ping", ("127.0.0.1", port)).unwrap();
            let mut reply = [0u8; 64];
            let (n, _) = client.recv_from(&mut reply).unwrap();
            assert_eq!(&reply[..n], b"Hello from here!\n");
        }
    }
}
