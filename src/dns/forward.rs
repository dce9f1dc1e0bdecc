//! Passing a question on to the host's resolver, byte for byte, over the transport the
//! client used (an upstream answer too large for UDP comes back truncated, and the client
//! asks again over TCP, which is then passed on over TCP).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long the upstream resolver has to answer: a client retries after its own timeout
/// (five seconds by default for glibc), so giving up sooner answers it with SERVFAIL first.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(4);

/// How a question arrived, and so how it is passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What can go wrong asking the upstream resolver.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("asking {upstream}: {source}")]
    Io {
        upstream: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0} did not answer in time")]
    Timeout(SocketAddr),
}

/// The first `nameserver` of a resolv.conf, on port 53: the resolver the host (or the
/// container the server runs in) uses.
pub fn upstream_from_resolv_conf(path: &Path) -> Option<SocketAddr> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .find_map(|rest| rest.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
}

/// Sends `query` to `upstream` and returns its answer.
pub async fn exchange(
    upstream: SocketAddr,
    query: &[u8],
    transport: Transport,
) -> Result<Vec<u8>, ForwardError> {
    let io = |source| ForwardError::Io { upstream, source };
    let asked = async {
        match transport {
            Transport::Udp => {
                let local: IpAddr = if upstream.is_ipv4() {
                    Ipv4Addr::UNSPECIFIED.into()
                } else {
                    Ipv6Addr::UNSPECIFIED.into()
                };
                let socket = UdpSocket::bind(SocketAddr::new(local, 0))
                    .await
                    .map_err(io)?;
                socket.connect(upstream).await.map_err(io)?;
                socket.send(query).await.map_err(io)?;
                let mut buffer = vec![0u8; 65_535];
                loop {
                    let len = socket.recv(&mut buffer).await.map_err(io)?;
                    // Only the answer to this question: the same id.
                    if len >= 2 && buffer[..2] == query[..2.min(query.len())] {
                        buffer.truncate(len);
                        return Ok(buffer);
                    }
                }
            }
            Transport::Tcp => {
                let mut stream = TcpStream::connect(upstream).await.map_err(io)?;
                let len = u16::try_from(query.len())
                    .map_err(|_| io(std::io::Error::other("query too long")))?;
                stream.write_u16(len).await.map_err(io)?;
                stream.write_all(query).await.map_err(io)?;
                let len = stream.read_u16().await.map_err(io)?;
                let mut answer = vec![0u8; usize::from(len)];
                stream.read_exact(&mut answer).await.map_err(io)?;
                Ok(answer)
            }
        }
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, asked)
        .await
        .map_err(|_| ForwardError::Timeout(upstream))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_nameserver_is_the_upstream() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("resolv.conf");
        std::fs::write(
            &path,
            "# comment\nsearch example.org\nnameserver 127.0.0.11\nnameserver 8.8.8.8\n",
        )
        .unwrap();
        assert_eq!(
            upstream_from_resolv_conf(&path),
            Some("127.0.0.11:53".parse().unwrap())
        );
        std::fs::write(&path, "search example.org\n").unwrap();
        assert_eq!(upstream_from_resolv_conf(&path), None);
    }

    #[tokio::test]
    async fn a_question_is_passed_on_and_its_answer_returned() {
        let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buffer = [0u8; 512];
            let (len, peer) = upstream.recv_from(&mut buffer).await.unwrap();
            // Something else first, then the answer with the question's id.
            upstream.send_to(b"\x00\x00stray", peer).await.unwrap();
            let mut answer = buffer[..len].to_vec();
            answer.extend_from_slice(b"answer");
            upstream.send_to(&answer, peer).await.unwrap();
        });
        let answer = exchange(addr, b"\x12\x34question", Transport::Udp)
            .await
            .unwrap();
        assert_eq!(answer, b"\x12\x34questionanswer");
    }
}
