//! Cluster DNS, served by `mkc server` itself: the `kube-dns` Service (`10.96.0.10` in
//! `kube-system`, as upstream clusters have it) routes port 53 to this server's address,
//! where UDP and TCP queries are answered from watches of Services, EndpointSlices and
//! Namespaces ([`zone`]), and every other name is passed on to the host's resolver
//! ([`forward`]). One process less than a CoreDNS pod, and no image to load into the nodes.

mod forward;
mod publish;
mod zone;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use futures::StreamExt;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use forward::{Transport, upstream_from_resolv_conf};
pub use publish::CLUSTER_DNS_IP;
use zone::{Answer, Zone};

/// How the cluster's DNS is served.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Where to listen, UDP and TCP.
    pub bind: SocketAddr,
    /// The address the `kube-dns` Service's endpoints point at (the port is `bind`'s).
    pub advertise: IpAddr,
    /// The cluster domain, `cluster.local`.
    pub domain: String,
    /// The resolver names outside the cluster are passed on to.
    pub upstream: Option<SocketAddr>,
}

/// What can stop the DNS server from starting.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("cannot listen for DNS on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("`{0}` is not a DNS domain")]
    Domain(String),
}

/// The largest UDP answer for a client that does not say (RFC 1035); larger ones are
/// truncated so the client asks again over TCP.
const CLASSIC_UDP_SIZE: usize = 512;
/// What we announce with EDNS: the size recommended to avoid fragmentation.
const EDNS_UDP_SIZE: u16 = 1232;

/// Listens on `config.bind` and answers until `shutdown`; publishes the `kube-dns` Service
/// through `client` once listening.
pub async fn start(
    client: Client,
    config: DnsConfig,
    shutdown: CancellationToken,
) -> Result<JoinSet<()>, DnsError> {
    let bind_error = |source| DnsError::Bind {
        addr: config.bind,
        source,
    };
    let udp = UdpSocket::bind(config.bind).await.map_err(bind_error)?;
    let port = udp.local_addr().map_err(bind_error)?.port();
    let tcp = TcpListener::bind(SocketAddr::new(config.bind.ip(), port))
        .await
        .map_err(bind_error)?;
    let mut domain =
        Name::from_ascii(&config.domain).map_err(|_| DnsError::Domain(config.domain.clone()))?;
    domain.set_fqdn(true);

    let mut tasks = JoinSet::new();
    let (services, services_writer) = reflector::store::<Service>();
    let (slices, slices_writer) = reflector::store::<EndpointSlice>();
    let (namespaces, namespaces_writer) = reflector::store::<Namespace>();
    let watches = futures::stream::select(
        futures::stream::select(
            reflector(
                services_writer,
                watcher(
                    Api::<Service>::all(client.clone()),
                    watcher::Config::default(),
                ),
            )
            .default_backoff()
            .map(drop),
            reflector(
                slices_writer,
                watcher(
                    Api::<EndpointSlice>::all(client.clone()),
                    watcher::Config::default(),
                ),
            )
            .default_backoff()
            .map(drop),
        ),
        reflector(
            namespaces_writer,
            watcher(
                Api::<Namespace>::all(client.clone()),
                watcher::Config::default(),
            ),
        )
        .default_backoff()
        .map(drop),
    )
    .take_until(shutdown.clone().cancelled_owned());
    tasks.spawn(watches.for_each(|()| async {}));

    let server = Arc::new(Server {
        zone: Zone {
            domain,
            services,
            slices,
            namespaces,
        },
        upstream: config.upstream,
    });
    tasks.spawn(serve_udp(server.clone(), udp, shutdown.clone()));
    tasks.spawn(serve_tcp(server, tcp, shutdown.clone()));
    tasks.spawn(publish::keep(client, config.advertise, port, shutdown));
    Ok(tasks)
}

/// Answers questions from the zone, or through the upstream resolver.
struct Server {
    zone: Zone,
    upstream: Option<SocketAddr>,
}

impl Server {
    /// The response to the message `bytes`, if it deserves one: from the zone, or the
    /// upstream resolver's own, as it arrived over `transport`. An answer too large for UDP is
    /// truncated, so the client asks again over TCP.
    async fn respond(&self, bytes: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let Ok(request) = Message::from_vec(bytes) else {
            // Answer what can be answered: a header whose id we can read.
            let id = u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]);
            return Message::error_msg(id, OpCode::Query, ResponseCode::FormErr)
                .to_vec()
                .ok();
        };
        if request.metadata.message_type != MessageType::Query {
            return None;
        }
        let mut response = Message::response(request.metadata.id, request.metadata.op_code);
        response.metadata.recursion_desired = request.metadata.recursion_desired;
        response.metadata.recursion_available = true;
        if let Some(edns) = &request.edns {
            let mut ours = Edns::new();
            ours.set_max_payload(EDNS_UDP_SIZE.min(edns.max_payload().max(512)));
            response.set_edns(ours);
        }
        let question = match (request.metadata.op_code, request.queries.as_slice()) {
            (OpCode::Query, [question]) => question.clone(),
            (OpCode::Query, _) => {
                response.metadata.response_code = ResponseCode::FormErr;
                return response.to_vec().ok();
            }
            _ => {
                response.metadata.response_code = ResponseCode::NotImp;
                return response.to_vec().ok();
            }
        };
        response.add_query(question.clone());
        match self.zone.answer(question.name(), question.query_type()) {
            Answer::Forward => {
                return match self.upstream {
                    Some(upstream) => match forward::exchange(upstream, bytes, transport).await {
                        Ok(answer) => Some(answer),
                        Err(error) => {
                            tracing::debug!(%error, name = %question.name(), "forwarding failed");
                            failure(response)
                        }
                    },
                    None => failure(response),
                };
            }
            Answer::Records {
                answers,
                additionals,
            } => {
                response.metadata.authoritative = true;
                response.add_answers(answers);
                response.add_additionals(additionals);
            }
            Answer::Alias { cname, target } => {
                response.metadata.authoritative = true;
                response.add_answer(*cname);
                if matches!(question.query_type(), RecordType::A | RecordType::AAAA) {
                    response
                        .add_answers(self.chase(target, question.query_type(), transport).await);
                }
            }
            Answer::NoData => {
                response.metadata.authoritative = true;
                response.add_authority(self.zone.soa());
            }
            Answer::NxDomain => {
                response.metadata.authoritative = true;
                response.metadata.response_code = ResponseCode::NXDomain;
                response.add_authority(self.zone.soa());
            }
        }
        let encoded = response.to_vec().ok()?;
        let limit = match transport {
            Transport::Tcp => usize::MAX,
            Transport::Udp => request
                .edns
                .as_ref()
                .map_or(CLASSIC_UDP_SIZE, |e| usize::from(e.max_payload().max(512))),
        };
        if encoded.len() > limit {
            return response.truncate().to_vec().ok();
        }
        Some(encoded)
    }

    /// The address records of an ExternalName's target, asked of the upstream resolver.
    async fn chase(
        &self,
        target: Name,
        kind: RecordType,
        transport: Transport,
    ) -> Vec<hickory_proto::rr::Record> {
        let Some(upstream) = self.upstream else {
            return Vec::new();
        };
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(target, kind));
        let Ok(bytes) = query.to_vec() else {
            return Vec::new();
        };
        match forward::exchange(upstream, &bytes, transport).await {
            Ok(answer) => Message::from_vec(&answer)
                .map(|m| m.answers)
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }
}

/// SERVFAIL: the upstream resolver could not be asked, or did not answer.
fn failure(mut response: Message) -> Option<Vec<u8>> {
    response.metadata.response_code = ResponseCode::ServFail;
    response.to_vec().ok()
}

async fn serve_udp(server: Arc<Server>, socket: UdpSocket, shutdown: CancellationToken) {
    let socket = Arc::new(socket);
    let mut buffer = vec![0u8; 65_535];
    loop {
        let received = tokio::select! {
            received = socket.recv_from(&mut buffer) => received,
            () = shutdown.cancelled() => return,
        };
        let (len, peer) = match received {
            Ok(received) => received,
            Err(error) => {
                tracing::debug!(%error, "receiving a DNS query failed");
                continue;
            }
        };
        let (server, socket, query) = (server.clone(), socket.clone(), buffer[..len].to_vec());
        tokio::spawn(async move {
            if let Some(answer) = server.respond(&query, Transport::Udp).await
                && let Err(error) = socket.send_to(&answer, peer).await
            {
                tracing::debug!(%error, %peer, "sending a DNS answer failed");
            }
        });
    }
}

async fn serve_tcp(server: Arc<Server>, listener: TcpListener, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                let (server, shutdown) = (server.clone(), shutdown.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        () = serve_connection(&server, stream) => {}
                        () = shutdown.cancelled() => {}
                    }
                });
            }
            Err(error) => tracing::debug!(%error, "accepting a DNS connection failed"),
        }
    }
}

/// Answers length-prefixed queries on one connection until the client closes it.
async fn serve_connection(server: &Server, mut stream: TcpStream) {
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        let mut query = vec![0u8; usize::from(len)];
        if stream.read_exact(&mut query).await.is_err() {
            return;
        }
        let Some(answer) = server.respond(&query, Transport::Tcp).await else {
            continue;
        };
        let Ok(len) = u16::try_from(answer.len()) else {
            return;
        };
        if stream.write_u16(len).await.is_err() || stream.write_all(&answer).await.is_err() {
            return;
        }
    }
}
