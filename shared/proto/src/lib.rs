//! Generated code for every kefu contract under `proto/`, one module per package, and the
//! encoded descriptor set that services hand to server reflection.
//!
//! The code is generated into `OUT_DIR` at build time and never committed. Maps are generated
//! as `BTreeMap`, so a message always encodes to the same bytes.

#![allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod codec;

/// Encoded `FileDescriptorSet` of every kefu proto, for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/kefu_descriptor.bin"));

/// Types every service shares, `kefu.common.v1`: channels, customer tiers and lifecycle stages.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.common.v1");
    }
}

/// The customers service contract, `kefu.customers.v1`.
#[cfg(feature = "customers")]
pub mod customers {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.customers.v1");
    }
}

/// The knowledge base contract, `kefu.knowledge.v1`.
#[cfg(feature = "knowledge")]
pub mod knowledge {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.knowledge.v1");
    }
}

/// The tickets contract, `kefu.tickets.v1`.
#[cfg(feature = "tickets")]
pub mod tickets {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.tickets.v1");
    }
}

/// The feedback contract, `kefu.feedback.v1`.
#[cfg(feature = "feedback")]
pub mod feedback {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.feedback.v1");
    }
}

/// The automation contract, `kefu.automation.v1`.
#[cfg(feature = "automation")]
pub mod automation {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("kefu.automation.v1");
    }
}

/// What the outbox reads of every service's `Event`: its type's name and the resource it is
/// about.
pub trait OutboxEvent: prost::Message {
    /// The name of the event's type (`TICKET_CREATED`).
    fn type_name(&self) -> &'static str;
    /// The resource the event is about (`tickets/{id}`).
    fn resource(&self) -> &str;
}

/// What every service's `WatchEvents` response shares: one `event` whose `cursor` says where to
/// resume. The service kit serves and follows event streams through it.
pub trait WatchResponse: prost::Message + Default + Send + Sync + 'static {
    /// The service's event message.
    type Event: prost::Message + Default + Send + Sync + 'static;
    /// The service's `WatchEventsRequest`.
    type Request: prost::Message + Default + Send + Sync + 'static;

    /// The response carrying `event` at `cursor`.
    fn from_event(event: Self::Event, cursor: String) -> Self;

    /// The event and its cursor; `None` for a response without an event.
    fn into_event(self) -> Option<(String, Self::Event)>;

    /// The request for the events after `after_cursor` (empty: from the first).
    fn request(after_cursor: String) -> Self::Request;

    /// The cursor a request resumes after.
    fn after_cursor(request: &Self::Request) -> &str;
}

/// A client of a service's `WatchEvents`: what the service kit's event consumers follow.
pub trait EventSource: Clone + Send + Sync + 'static {
    /// The stream's responses.
    type Response: WatchResponse;

    /// Opens the stream.
    fn watch(
        &self,
        request: tonic::Request<<Self::Response as WatchResponse>::Request>,
    ) -> impl std::future::Future<Output = Result<tonic::Streaming<Self::Response>, tonic::Status>> + Send;
}

macro_rules! watch_response {
    ($feature:literal, $package:ident, $client:ident :: $Client:ident) => {
        #[cfg(feature = $feature)]
        impl OutboxEvent for $package::v1::Event {
            fn type_name(&self) -> &'static str {
                $package::v1::EventType::try_from(self.r#type)
                    .unwrap_or_default()
                    .as_str_name()
            }

            fn resource(&self) -> &str {
                &self.resource
            }
        }

        #[cfg(feature = $feature)]
        impl WatchResponse for $package::v1::WatchEventsResponse {
            type Event = $package::v1::Event;
            type Request = $package::v1::WatchEventsRequest;

            fn from_event(mut event: Self::Event, cursor: String) -> Self {
                event.cursor = cursor;
                Self { event: Some(event) }
            }

            fn into_event(self) -> Option<(String, Self::Event)> {
                self.event.map(|event| (event.cursor.clone(), event))
            }

            fn request(after_cursor: String) -> Self::Request {
                $package::v1::WatchEventsRequest { after_cursor }
            }

            fn after_cursor(request: &Self::Request) -> &str {
                &request.after_cursor
            }
        }

        #[cfg(feature = $feature)]
        impl EventSource for $package::v1::$client::$Client<tonic::transport::Channel> {
            type Response = $package::v1::WatchEventsResponse;

            async fn watch(
                &self,
                request: tonic::Request<$package::v1::WatchEventsRequest>,
            ) -> Result<tonic::Streaming<Self::Response>, tonic::Status> {
                Ok(self.clone().watch_events(request).await?.into_inner())
            }
        }
    };
}

watch_response!(
    "customers",
    customers,
    customer_service_client::CustomerServiceClient
);
watch_response!(
    "knowledge",
    knowledge,
    knowledge_service_client::KnowledgeServiceClient
);
watch_response!(
    "tickets",
    tickets,
    ticket_service_client::TicketServiceClient
);
watch_response!(
    "feedback",
    feedback,
    feedback_service_client::FeedbackServiceClient
);
watch_response!(
    "automation",
    automation,
    automation_service_client::AutomationServiceClient
);

#[cfg(feature = "customers")]
impl customers::v1::Event {
    /// The id of the customer this event says was erased; `None` for any other event. Every
    /// service that keeps copies of a customer's data erases them on it.
    pub fn erased_customer(&self) -> Option<&str> {
        (self.r#type == customers::v1::EventType::CustomerErased as i32)
            .then(|| self.customer.strip_prefix("customers/"))
            .flatten()
    }

    /// The id of the customer this event says changed tier; `None` for any other event. The
    /// event names no tier: read the customer for the one they have now.
    pub fn retiered_customer(&self) -> Option<&str> {
        (self.r#type == customers::v1::EventType::CustomerUpdated as i32
            && self.changed_fields.iter().any(|f| f == "tier"))
        .then(|| self.customer.strip_prefix("customers/"))
        .flatten()
    }
}
