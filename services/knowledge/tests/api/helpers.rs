use kefu_principal::{Principal, Role};
use kefu_proto::knowledge::v1 as pb;
use kefu_testkit::{Backend, CallAs, TestServer};
use pb::knowledge_service_client::KnowledgeServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = KnowledgeServiceClient<InterceptedService<Channel, CallAs>>;

pub struct App {
    pub server: TestServer,
}

pub async fn spawn(backend: Backend) -> Option<App> {
    let key = kefu_principal::InternalKey::generate();
    let server = TestServer::service::<kefu_knowledge::Knowledge>(backend, &key, ())
        .await
        .expect("test server starts")?;
    Some(App { server })
}

impl App {
    pub fn client(&self, principal: &Principal) -> Client {
        KnowledgeServiceClient::with_interceptor(
            self.server.channel(),
            self.server.as_principal(principal),
        )
    }
    pub fn admin(&self) -> Client {
        self.client(&Principal::new("admin-1", Role::Admin))
    }
    pub fn agent(&self) -> Client {
        self.client(&Principal::new("agent-1", Role::Agent))
    }
    pub fn integration(&self) -> Client {
        self.client(&Principal::new("website-sync", Role::Integration))
    }
    pub fn customer(&self, id: &str) -> Client {
        self.client(&Principal::customer(id))
    }
}

pub fn draft(title: &str, body: &str) -> pb::Article {
    pb::Article {
        title: title.into(),
        body: body.into(),
        ..Default::default()
    }
}

pub async fn create(client: &mut Client, article: pb::Article) -> pb::Article {
    client
        .create_article(pb::CreateArticleRequest {
            article: Some(article),
            translation_of: String::new(),
            request_id: String::new(),
        })
        .await
        .expect("create article")
        .into_inner()
}

pub async fn publish(client: &mut Client, name: &str) -> pb::Article {
    client
        .publish_article(pb::PublishArticleRequest {
            request_id: String::new(),
            name: name.into(),
            revision: String::new(),
            etag: String::new(),
        })
        .await
        .expect("publish")
        .into_inner()
}

pub async fn published(client: &mut Client, article: pb::Article) -> pb::Article {
    let created = create(client, article).await;
    publish(client, &created.name).await
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

pub async fn search(client: &mut Client, query: &str) -> Vec<pb::SearchResult> {
    client
        .search_articles(pb::SearchArticlesRequest {
            query: query.into(),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .results
}

pub fn titles(results: &[pb::SearchResult]) -> Vec<String> {
    results
        .iter()
        .map(|r| {
            r.article
                .as_ref()
                .map(|a| a.title.clone())
                .unwrap_or_default()
        })
        .collect()
}

pub use kefu_testkit::assert_status;
