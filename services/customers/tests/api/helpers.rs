use kefu_principal::{Principal, Role};
use kefu_proto::customers::v1 as pb;
use kefu_testkit::{Backend, CallAs, TestServer};
use pb::customer_service_client::CustomerServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub type Client = CustomerServiceClient<InterceptedService<Channel, CallAs>>;

pub struct App {
    pub server: TestServer,
}

/// Starts the service on `backend`; `None` when PostgreSQL is not configured outside CI.
pub async fn spawn(backend: Backend) -> Option<App> {
    let key = kefu_principal::InternalKey::generate();
    let server = TestServer::service::<kefu_customers::Customers>(backend, &key, ())
        .await
        .expect("test server starts")?;
    Some(App { server })
}

impl App {
    pub fn client(&self, principal: &Principal) -> Client {
        CustomerServiceClient::with_interceptor(
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
        self.client(&Principal::new("crm-sync", Role::Integration))
    }

    pub fn customer(&self, customer_name: &str) -> Client {
        self.client(&Principal::customer(
            customer_name.trim_start_matches("customers/"),
        ))
    }

    pub fn raw(&self, call_as: CallAs) -> Client {
        CustomerServiceClient::with_interceptor(self.server.channel(), call_as)
    }
}

pub fn person(name: &str, email: &str) -> pb::Customer {
    pb::Customer {
        display_name: name.to_owned(),
        emails: vec![email.to_owned()],
        ..Default::default()
    }
}

pub async fn create(client: &mut Client, customer: pb::Customer) -> pb::Customer {
    client
        .create_customer(pb::CreateCustomerRequest {
            customer: Some(customer),
            request_id: String::new(),
        })
        .await
        .expect("create customer")
        .into_inner()
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

/// Asserts the code, and for INVALID_ARGUMENT that a `BadRequest` names each of `fields`.
pub use kefu_testkit::assert_status;
