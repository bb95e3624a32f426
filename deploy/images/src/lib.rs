//! What rk's image programs share: signal handling without async handlers
//! and the host name without name-service look-ups (those crash in statically
//! linked glibc programs), here; the web server, HTTP, forms, HTML escaping,
//! and Redis (RESP over TCP, found through Service variables) in modules.

pub mod address;
pub mod form;
pub mod html;
pub mod http;
pub mod redis;
pub mod resp;
pub mod server;
pub mod udp;

use std::io;

/// Blocks `signals` in the calling thread (and every thread it spawns later)
/// and returns the set, to be taken with [`wait_signal`]. A blocked signal is
/// never ignored by the kernel, even in a container's PID 1.
pub fn block_signals(signals: &[libc::c_int]) -> io::Result<libc::sigset_t> {
    // SAFETY: the set is initialised by sigemptyset before any other use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &signal in signals {
            libc::sigaddset(&mut set, signal);
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(set)
    }
}

/// Waits until one of the blocked signals of `set` arrives; returns it.
pub fn wait_signal(set: &libc::sigset_t) -> io::Result<libc::c_int> {
    let mut signal: libc::c_int = 0;
    // SAFETY: both pointers are valid for the duration of the call.
    let rc = unsafe { libc::sigwait(set, &mut signal) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(signal)
}

/// The kernel's host name (the pod name, in a pod).
pub fn hostname() -> io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid and its length is passed.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}
