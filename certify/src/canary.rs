//! The network canaries of a case: a TCP listener and a UDP socket on 127.0.0.1, fresh ports
//! per case, which record every connection and datagram that reaches them. A guest learns the
//! ports through `{canary_tcp_port}` / `{canary_udp_port}` in its arguments; one that reaches
//! either without a network grant has escaped (the runner's judgement), one with a grant must
//! reach the one its case names (`expect.canary`).

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of each connection or datagram kept as evidence.
const KEEP: usize = 64;
/// How often the canary threads look for a stop.
const POLL: Duration = Duration::from_millis(5);
/// At most this many contacts are recorded (a flooding guest cannot grow the list).
const MAX_CONTACTS: usize = 16;

/// One thing that reached a canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// `tcp` or `udp`.
    pub proto: &'static str,
    pub from: SocketAddr,
    /// The first bytes received (TCP: within the case's run).
    pub bytes: Vec<u8>,
}

impl std::fmt::Display for Contact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} from {} ({} bytes: {:?})",
            self.proto,
            self.from,
            self.bytes.len(),
            String::from_utf8_lossy(&self.bytes)
        )
    }
}

pub struct Canaries {
    pub tcp_port: u16,
    pub udp_port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Contact>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Canaries {
    pub fn start() -> std::io::Result<Canaries> {
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        tcp.set_nonblocking(true)?;
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        udp.set_read_timeout(Some(POLL))?;
        let (tcp_port, udp_port) = (tcp.local_addr()?.port(), udp.local_addr()?.port());
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<Vec<Contact>>> = Arc::default();
        let record = |seen: &Mutex<Vec<Contact>>, c: Contact| {
            let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
            if s.len() < MAX_CONTACTS {
                s.push(c);
            }
        };
        let (st, se) = (stop.clone(), seen.clone());
        let t1 = std::thread::Builder::new()
            .name("wasmcert-canary-tcp".into())
            .spawn(move || {
                while !st.load(Ordering::SeqCst) {
                    match tcp.accept() {
                        Ok((mut conn, from)) => {
                            // What the guest sent, read until the run ends (bounded).
                            let _ = conn.set_read_timeout(Some(POLL));
                            let mut bytes = Vec::new();
                            let mut buf = [0u8; KEEP];
                            while !st.load(Ordering::SeqCst) && bytes.len() < KEEP {
                                match conn.read(&mut buf) {
                                    Ok(0) => break,
                                    Ok(n) => bytes.extend_from_slice(&buf[..n]),
                                    Err(e)
                                        if matches!(
                                            e.kind(),
                                            std::io::ErrorKind::WouldBlock
                                                | std::io::ErrorKind::TimedOut
                                                | std::io::ErrorKind::Interrupted
                                        ) => {}
                                    Err(_) => break,
                                }
                            }
                            bytes.truncate(KEEP);
                            record(
                                &se,
                                Contact {
                                    proto: "tcp",
                                    from,
                                    bytes,
                                },
                            );
                        }
                        Err(_) => std::thread::sleep(POLL),
                    }
                }
            })?;
        let (st, se) = (stop.clone(), seen.clone());
        let t2 = std::thread::Builder::new()
            .name("wasmcert-canary-udp".into())
            .spawn(move || {
                let mut buf = [0u8; 2048];
                while !st.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = udp.recv_from(&mut buf) {
                        record(
                            &se,
                            Contact {
                                proto: "udp",
                                from,
                                bytes: buf[..n.min(KEEP)].to_vec(),
                            },
                        );
                    }
                }
            })?;
        Ok(Canaries {
            tcp_port,
            udp_port,
            stop,
            seen,
            threads: vec![t1, t2],
        })
    }

    /// Stop listening and say what reached the canaries.
    pub fn finish(mut self) -> Vec<Contact> {
        // A connection the guest made just before it ended is accepted first.
        std::thread::sleep(POLL * 2);
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.clone()
    }
}

impl Drop for Canaries {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_connection_and_a_datagram_are_recorded() {
        let c = Canaries::start().unwrap();
        let mut s = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, c.tcp_port)).unwrap();
        s.write_all(b"hello").unwrap();
        let u = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        u.send_to(b"ping", (Ipv4Addr::LOCALHOST, c.udp_port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(s);
        let seen = c.finish();
        assert!(
            seen.iter().any(|x| x.proto == "tcp" && x.bytes == b"hello"),
            "{seen:?}"
        );
        assert!(
            seen.iter().any(|x| x.proto == "udp" && x.bytes == b"ping"),
            "{seen:?}"
        );
    }

    #[test]
    fn nothing_is_recorded_when_nothing_connects() {
        let c = Canaries::start().unwrap();
        assert!(c.finish().is_empty());
    }
}
