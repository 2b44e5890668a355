//! Every OS call of the network engine lives here (mio's `sys/` habit): socket creation with
//! options set *before* `connect` (so `SO_RCVBUF` shapes the TCP window scale), non-blocking
//! connect, `TCP_NODELAY`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::FromRawFd;

/// Create a non-blocking TCP socket, apply `SO_RCVBUF` (if `rcvbuf_bytes > 0`) and `TCP_NODELAY`,
/// and start a non-blocking connect to `addr`. The returned stream is connecting: wait for it to
/// become writable, then check [`connect_result`].
pub(crate) fn connect_nonblocking(
    addr: SocketAddr,
    rcvbuf_bytes: u32,
) -> io::Result<mio::net::TcpStream> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket(2) call with constant arguments; the result is checked below.
    let fd = unsafe {
        libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a freshly created socket we own; std takes ownership and closes it on drop
    // (including on every early return below).
    let std_stream = unsafe { std::net::TcpStream::from_raw_fd(fd) };
    if rcvbuf_bytes > 0 {
        setsockopt_int(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            rcvbuf_bytes as libc::c_int,
        )?;
    }
    setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
    let (storage, len) = sockaddr_of(addr);
    // SAFETY: `storage` holds a valid sockaddr of length `len` for the socket's family.
    let rc = unsafe { libc::connect(fd, &storage as *const _ as *const libc::sockaddr, len) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(err);
        }
    }
    Ok(mio::net::TcpStream::from_std(std_stream))
}

/// After a connecting socket became writable: `Ok(true)` connected, `Ok(false)` still in
/// progress (spurious wake-up), `Err` the connect failed.
pub(crate) fn connect_result(sock: &mio::net::TcpStream) -> io::Result<bool> {
    if let Some(err) = sock.take_error()? {
        return Err(err);
    }
    match sock.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Read back `SO_RCVBUF` (the kernel doubles the requested value on Linux).
pub fn so_rcvbuf(sock: &mio::net::TcpStream) -> io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut val: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `val`/`len` are valid out-pointers sized for an int option.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            &mut val as *mut _ as *mut libc::c_void,
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(val as u32)
}

fn setsockopt_int(
    fd: libc::c_int,
    level: libc::c_int,
    opt: libc::c_int,
    val: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `val` is a live int and the length passed matches its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            &val as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn sockaddr_of(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in, sin) };
            (
                storage,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned for sockaddr_in6.
            unsafe { std::ptr::write(&mut storage as *mut _ as *mut libc::sockaddr_in6, sin6) };
            (
                storage,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn so_rcvbuf_is_applied_before_connect() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = connect_nonblocking(l.local_addr().unwrap(), 256 * 1024).unwrap();
        // Linux doubles the value; allow the sysctl cap (rmem_max) to clamp it.
        assert!(so_rcvbuf(&s).unwrap() >= 4096);
        let (_peer, _) = l.accept().unwrap();
        for _ in 0..1000 {
            if connect_result(&s).unwrap() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        panic!("connect never completed");
    }
}
