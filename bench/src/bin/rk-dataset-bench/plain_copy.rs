//! The baseline: the same files from node A to node B over one plain TCP
//! stream (a small Rust sender and receiver: name, size, bytes per file).

use crate::data::Dataset;
use crate::network::Pair;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

fn receive(listener: TcpListener, target: &Path) -> anyhow::Result<()> {
    let (mut stream, _) = listener.accept()?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let mut header = [0u8; 12];
        stream.read_exact(&mut header)?;
        let name_len = u32::from_le_bytes(header[..4].try_into()?) as usize;
        if name_len == 0 {
            break;
        }
        let mut size = u64::from_le_bytes(header[4..].try_into()?);
        let mut name = vec![0u8; name_len];
        stream.read_exact(&mut name)?;
        let mut file = File::create(target.join(String::from_utf8(name)?))?;
        while size > 0 {
            let n = stream.read(&mut buffer[..size.min(1 << 20) as usize])?;
            anyhow::ensure!(n > 0, "the sender stopped early");
            file.write_all(&buffer[..n])?;
            size -= n as u64;
        }
    }
    stream.write_all(b"k")?; // everything is written
    Ok(())
}

fn send(address: (&str, u16), dataset: &Dataset) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(address)?;
    for path in &dataset.files {
        let mut file = File::open(path)?;
        let name = path.file_name().unwrap_or_default().as_encoded_bytes();
        stream.write_all(&(name.len() as u32).to_le_bytes())?;
        stream.write_all(&file.metadata()?.len().to_le_bytes())?;
        stream.write_all(name)?;
        std::io::copy(&mut file, &mut stream)?; // sendfile(2) on Linux
    }
    stream.write_all(&[0u8; 12])?;
    let mut ack = [0u8; 1];
    stream.read_exact(&mut ack)?;
    Ok(())
}

/// The time from the first byte sent to the last file written in B.
pub fn measure(pair: &Pair, dataset: &Dataset, target: &Path) -> anyhow::Result<Duration> {
    std::fs::create_dir_all(target)?;
    let result = std::thread::scope(|scope| {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let receiver = scope.spawn(move || {
            pair.b.enter()?;
            let listener = TcpListener::bind((pair.b_ip.as_str(), 0))?;
            port_tx.send(listener.local_addr()?.port())?;
            receive(listener, target)
        });
        let sender = scope.spawn(move || {
            pair.a.enter()?;
            let port = port_rx.recv()?;
            let started = Instant::now();
            send((pair.b_ip.as_str(), port), dataset)?;
            Ok::<_, anyhow::Error>(started.elapsed())
        });
        let elapsed = sender.join().map_err(|_| anyhow::anyhow!("the sender panicked"))?;
        receiver.join().map_err(|_| anyhow::anyhow!("the receiver panicked"))??;
        elapsed
    });
    let _ = std::fs::remove_dir_all(target);
    result
}
