//! This terminal, for `exec -t`: whether stdin is one, its size, and raw mode.

use rk_proto::streaming::TerminalSize;
use std::io::IsTerminal;
use std::os::fd::RawFd;

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Columns and rows of the terminal on stdout, else on stdin.
pub fn size() -> Option<TerminalSize> {
    [libc::STDOUT_FILENO, libc::STDIN_FILENO].into_iter().find_map(size_of)
}

fn size_of(fd: RawFd) -> Option<TerminalSize> {
    // SAFETY: winsize is plain data; TIOCGWINSZ fills it in or fails.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then(|| TerminalSize { width: size.ws_col.into(), height: size.ws_row.into() })
}

/// A terminal in raw mode: keys reach the remote command as typed (Ctrl-C
/// included) and nothing is echoed here. The old settings come back on drop,
/// so every way out of `exec` (end, error, panic) restores the terminal.
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    pub fn enable(fd: RawFd) -> std::io::Result<RawMode> {
        // SAFETY: termios is plain data, filled in by tcgetattr before use.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut raw = saved;
        unsafe { libc::cfmakeraw(&mut raw) };
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores settings read from this same descriptor.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-terminal pair (controller, terminal), closed on drop.
    struct Pty(RawFd, RawFd);

    impl Pty {
        fn open(columns: u16, rows: u16) -> Pty {
            let (mut controller, mut terminal) = (0, 0);
            let size = libc::winsize { ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0 };
            let ok =
                unsafe { libc::openpty(&mut controller, &mut terminal, std::ptr::null_mut(), std::ptr::null(), &size) };
            assert_eq!(ok, 0, "openpty: {}", std::io::Error::last_os_error());
            Pty(controller, terminal)
        }

        fn flags(&self) -> libc::termios {
            let mut termios: libc::termios = unsafe { std::mem::zeroed() };
            assert_eq!(unsafe { libc::tcgetattr(self.1, &mut termios) }, 0);
            termios
        }
    }

    impl Drop for Pty {
        fn drop(&mut self) {
            unsafe {
                libc::close(self.0);
                libc::close(self.1);
            }
        }
    }

    #[test]
    fn raw_mode_turns_off_echo_and_line_editing_until_dropped() {
        let pty = Pty::open(100, 40);
        let before = pty.flags();
        assert_ne!(before.c_lflag & (libc::ECHO | libc::ICANON | libc::ISIG), 0);
        let raw = RawMode::enable(pty.1).unwrap();
        assert_eq!(pty.flags().c_lflag & (libc::ECHO | libc::ICANON | libc::ISIG), 0);
        drop(raw);
        let after = pty.flags();
        assert_eq!((after.c_lflag, after.c_iflag, after.c_oflag), (before.c_lflag, before.c_iflag, before.c_oflag));
    }

    #[test]
    fn sizes_come_from_the_terminal_and_not_from_other_files() {
        let pty = Pty::open(100, 40);
        assert_eq!(size_of(pty.1), Some(TerminalSize { width: 100, height: 40 }));
        let file = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(size_of(std::os::fd::AsRawFd::as_raw_fd(&file)), None);
        assert!(RawMode::enable(std::os::fd::AsRawFd::as_raw_fd(&file)).is_err());
    }
}
