//! The session: `POST /session` upgraded to h2c, on which berth is the HTTP/2 server and the
//! daemon the gRPC client calling back for files, credentials, secrets and the ssh agent.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;

use futures_core::Stream;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tonic::codegen::Service;
use tonic::{Request, Response, Status, Streaming};

use super::filesync::{self, PacketStream, SyncedDir};
use super::proto::fsutil::types::Packet;
use super::proto::moby::buildkit::secrets::v1 as secrets;
use super::proto::moby::filesync::v1 as filesync_pb;
use super::proto::moby::sshforward::v1 as ssh_pb;
use super::{Output, SecretSource, SshAgent};
use crate::credentials::CredentialStore;

type SshStream = Pin<Box<dyn Stream<Item = Result<ssh_pb::BytesMessage, Status>> + Send>>;

/// What one build's session serves.
pub(crate) struct Services {
    pub(crate) dirs: HashMap<String, SyncedDir>,
    pub(crate) secrets: HashMap<String, SecretSource>,
    pub(crate) ssh: HashMap<String, SshAgent>,
    pub(crate) credentials: Option<CredentialStore>,
    pub(crate) output: Option<Output>,
}

impl Services {
    /// The methods the session announces (`X-Docker-Expose-Session-Grpc-Method`, one line
    /// each): the daemon checks FileSync's before it asks for files.
    pub(crate) fn methods(&self) -> Vec<&'static str> {
        let mut methods = vec![
            "/grpc.health.v1.Health/Check",
            "/moby.filesync.v1.FileSync/DiffCopy",
            "/moby.filesync.v1.Auth/Credentials",
            "/moby.buildkit.secrets.v1.Secrets/GetSecret",
        ];
        if matches!(self.output, Some(Output::Local(_) | Output::Tar(_))) {
            methods.push("/moby.filesync.v1.FileSend/DiffCopy");
        }
        if !self.ssh.is_empty() {
            methods.extend([
                "/moby.sshforward.v1.SSH/CheckAgent",
                "/moby.sshforward.v1.SSH/ForwardAgent",
            ]);
        }
        methods
    }
}

/// Serves the session's gRPC services on the upgraded connection until the daemon closes it
/// (or the build ends and the task is dropped).
pub(crate) async fn serve(io: crate::stream::Upgraded, services: Services) {
    let services = Arc::new(services);
    let (_health, health) = tonic_health::server::health_reporter();
    let filesync = filesync_pb::file_sync_server::FileSyncServer::new(Handler(services.clone()));
    let auth = filesync_pb::auth_server::AuthServer::new(Handler(services.clone()));
    let secrets = secrets::secrets_server::SecretsServer::new(Handler(services.clone()));
    let ssh = ssh_pb::ssh_server::SshServer::new(Handler(services.clone()));
    let output = services.output.clone();
    let route = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let path = request.uri().path();
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let (mut health, mut filesync, mut auth, mut secrets, mut ssh) = (
            health.clone(),
            filesync.clone(),
            auth.clone(),
            secrets.clone(),
            ssh.clone(),
        );
        let service = service.to_string();
        let output = output.clone();
        async move {
            let response = match service.as_str() {
                "grpc.health.v1.Health" => health.call(request).await,
                "moby.filesync.v1.FileSync" => filesync.call(request).await,
                "moby.filesync.v1.Auth" => auth.call(request).await,
                "moby.buildkit.secrets.v1.Secrets" => secrets.call(request).await,
                "moby.sshforward.v1.SSH" => ssh.call(request).await,
                "moby.filesync.v1.FileSend" => Ok(super::filesend::serve(output, request).await),
                _ => Ok(Status::unimplemented(format!("berth serves no {service}")).into_http()),
            };
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let served = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        // The daemon's messages go up to 16 MiB (28.x); a file's chunks are ours to size.
        .max_frame_size(1 << 20)
        .serve_connection(TokioIo::new(io), route)
        .await;
    if let Err(e) = served {
        tracing::debug!(target: "berth.buildkit", error = %e, "session connection ended");
    }
}

/// The services' implementations, sharing the build's session data.
#[derive(Clone)]
struct Handler(Arc<Services>);

#[tonic::async_trait]
impl filesync_pb::file_sync_server::FileSync for Handler {
    type DiffCopyStream = PacketStream;
    type TarStreamStream = PacketStream;

    async fn diff_copy(
        &self,
        request: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        filesync::diff_copy(&self.0.dirs, request).await
    }

    async fn tar_stream(
        &self,
        _: Request<Streaming<Packet>>,
    ) -> Result<Response<PacketStream>, Status> {
        // Never called by the daemons: their local sources speak DiffCopy only.
        Err(Status::unimplemented(
            "TarStream: berth sends files with DiffCopy",
        ))
    }
}

#[tonic::async_trait]
impl filesync_pb::auth_server::Auth for Handler {
    async fn credentials(
        &self,
        request: Request<filesync_pb::CredentialsRequest>,
    ) -> Result<Response<filesync_pb::CredentialsResponse>, Status> {
        let host = request.into_inner().host;
        let Some(store) = &self.0.credentials else {
            return Ok(Response::new(Default::default()));
        };
        // Docker Hub's registry host is stored under its index address.
        let registry = if host == "registry-1.docker.io" {
            "docker.io"
        } else {
            host.as_str()
        };
        let auth = store
            .for_registry(registry)
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let answer = match auth {
            Some(auth) => match auth.identitytoken {
                Some(token) => filesync_pb::CredentialsResponse {
                    username: String::new(),
                    secret: token,
                },
                None => filesync_pb::CredentialsResponse {
                    username: auth.username.unwrap_or_default(),
                    secret: auth.password.unwrap_or_default(),
                },
            },
            None => Default::default(),
        };
        Ok(Response::new(answer))
    }

    async fn fetch_token(
        &self,
        _: Request<filesync_pb::FetchTokenRequest>,
    ) -> Result<Response<filesync_pb::FetchTokenResponse>, Status> {
        Err(Status::unimplemented("berth gives credentials, not tokens"))
    }

    async fn get_token_authority(
        &self,
        _: Request<filesync_pb::GetTokenAuthorityRequest>,
    ) -> Result<Response<filesync_pb::GetTokenAuthorityResponse>, Status> {
        // Unimplemented: the daemon asks Credentials and fetches the token itself.
        Err(Status::unimplemented("berth gives credentials, not tokens"))
    }

    async fn verify_token_authority(
        &self,
        _: Request<filesync_pb::VerifyTokenAuthorityRequest>,
    ) -> Result<Response<filesync_pb::VerifyTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("berth gives credentials, not tokens"))
    }
}

#[tonic::async_trait]
impl secrets::secrets_server::Secrets for Handler {
    async fn get_secret(
        &self,
        request: Request<secrets::GetSecretRequest>,
    ) -> Result<Response<secrets::GetSecretResponse>, Status> {
        let id = request.into_inner().id;
        let Some(source) = self.0.secrets.get(&id) else {
            // NotFound: the daemon skips a `required=false` mount, else fails naming the id.
            return Err(Status::not_found(format!(
                "secret {id} not given to the build"
            )));
        };
        let data = source
            .read()
            .await
            .map_err(|e| Status::not_found(format!("secret {id}: {e}")))?;
        Ok(Response::new(secrets::GetSecretResponse { data }))
    }
}

#[tonic::async_trait]
impl ssh_pb::ssh_server::Ssh for Handler {
    type ForwardAgentStream = SshStream;

    async fn check_agent(
        &self,
        request: Request<ssh_pb::CheckAgentRequest>,
    ) -> Result<Response<ssh_pb::CheckAgentResponse>, Status> {
        let id = request.into_inner().id;
        let id = agent_id(&id);
        let agent = self.0.ssh.get(id).ok_or_else(|| {
            Status::not_found(format!("no ssh agent {id:?} forwarded to the build"))
        })?;
        agent
            .check()
            .await
            .map_err(|e| Status::unavailable(format!("ssh agent {id:?}: {e}")))?;
        Ok(Response::new(ssh_pb::CheckAgentResponse {}))
    }

    async fn forward_agent(
        &self,
        request: Request<Streaming<ssh_pb::BytesMessage>>,
    ) -> Result<Response<SshStream>, Status> {
        let id = request
            .metadata()
            .get("buildkit.ssh.id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let id = agent_id(&id);
        let agent = self.0.ssh.get(id).ok_or_else(|| {
            Status::not_found(format!("no ssh agent {id:?} forwarded to the build"))
        })?;
        let stream = agent
            .forward(request.into_inner())
            .await
            .map_err(|e| Status::unavailable(format!("ssh agent {id:?}: {e}")))?;
        Ok(Response::new(stream))
    }
}

fn agent_id(id: &str) -> &str {
    if id.is_empty() {
        "default"
    } else {
        id
    }
}
