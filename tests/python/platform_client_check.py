"""Polyglot check through the gateway: a Python client generated from proto/ uses every kefu
service behind `kefu dev`, authenticated with an API key, as an integrator would.

It proves what a Python integrator depends on beyond one service: reflection and health at the
gateway cover the whole API without a key, each service answers through the one address, a
server stream (WatchEvents) flows, and missing credentials or unknown methods get the right
status codes.

Usage: platform_client_check.py GATEWAY_ADDRESS API_KEY GENERATED_DIR
with KEFU_BIN (the `kefu` binary) and KEFU_DATA_DIR (that of the running `kefu dev`) set.
Prints one closing line "N passed, N failed" and exits non-zero on any failure.
"""

import os
import subprocess
import sys
import uuid

sys.path.insert(0, sys.argv[3])

import grpc  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402
from kefu.common.v1 import channel_pb2  # noqa: E402
from kefu.customers.v1 import customer_pb2, customer_service_pb2, customer_service_pb2_grpc  # noqa: E402
from kefu.feedback.v1 import feedback_pb2, feedback_service_pb2, feedback_service_pb2_grpc  # noqa: E402
from kefu.knowledge.v1 import article_pb2, knowledge_service_pb2, knowledge_service_pb2_grpc  # noqa: E402
from kefu.tickets.v1 import event_pb2, ticket_pb2, ticket_service_pb2, ticket_service_pb2_grpc  # noqa: E402

ADDRESS, KEY = sys.argv[1], sys.argv[2]
KEFU_BIN = os.environ["KEFU_BIN"]
SERVICES = [
    "kefu.customers.v1.CustomerService",
    "kefu.tickets.v1.TicketService",
    "kefu.knowledge.v1.KnowledgeService",
    "kefu.feedback.v1.FeedbackService",
]
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))


def code_of(call):
    try:
        call()
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


channel = grpc.insecure_channel(ADDRESS)
grpc.channel_ready_future(channel).result(timeout=10)
auth = [("authorization", f"Bearer {KEY}")]

# Open without a key: reflection (v1alpha, what grpcio speaks) and health for the whole API.
reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
listed = [s.name for s in next(responses).list_services_response.service]
check("reflection at the gateway lists every kefu service", set(SERVICES) <= set(listed), listed)
health = health_pb2_grpc.HealthStub(channel)
for service in SERVICES:
    status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
    check(f"health reports {service} SERVING", status == health_pb2.HealthCheckResponse.SERVING, status)

# Each service through the one address, with the API key.
customers = customer_service_pb2_grpc.CustomerServiceStub(channel)
customer = customers.CreateCustomer(
    customer_service_pb2.CreateCustomerRequest(
        customer=customer_pb2.Customer(
            display_name="Python Integrator", emails=[f"py-{uuid.uuid4().hex[:8]}@example.com"]
        ),
        request_id=str(uuid.uuid4()),
    ),
    metadata=auth,
    timeout=10,
)
check("customers: create through the gateway", customer.name.startswith("customers/"), customer.name)

tickets = ticket_service_pb2_grpc.TicketServiceStub(channel)
ticket = tickets.CreateTicket(
    ticket_service_pb2.CreateTicketRequest(
        ticket=ticket_pb2.Ticket(
            subject="The kettle leaks",
            description="Water comes out of the base.",
            requester=customer.name,
            channel=channel_pb2.CHANNEL_EMAIL,
        ),
        request_id=str(uuid.uuid4()),
    ),
    metadata=auth,
    timeout=10,
)
check(
    "tickets: a NEW ticket for the customer",
    ticket.requester == customer.name and ticket.status == ticket_pb2.TICKET_STATUS_NEW,
    ticket,
)

knowledge = knowledge_service_pb2_grpc.KnowledgeServiceStub(channel)
word = f"kettle{uuid.uuid4().hex[:6]}"
article = knowledge.CreateArticle(
    knowledge_service_pb2.CreateArticleRequest(
        article=article_pb2.Article(title=f"Returning a {word}", body=f"Open your order and return the {word}.")
    ),
    metadata=auth,
    timeout=10,
)
knowledge.PublishArticle(knowledge_service_pb2.PublishArticleRequest(name=article.name), metadata=auth, timeout=10)
found = knowledge.SearchArticles(knowledge_service_pb2.SearchArticlesRequest(query=word), metadata=auth, timeout=10)
check(
    "knowledge: a published article is found by search",
    [r.article.name for r in found.results] == [article.name],
    [r.article.name for r in found.results],
)

# A customer's own key (made with `kefu key`, as an operator would): the customer sends
# feedback as itself and cannot read other customers.
customer_id = customer.name.removeprefix("customers/")
made = subprocess.run(
    [KEFU_BIN, "key", "--role", "customer", "--customer", customer_id],
    capture_output=True,
    text=True,
    check=True,
)
as_customer = [("authorization", f"Bearer {made.stdout.strip()}")]
feedback = feedback_service_pb2_grpc.FeedbackServiceStub(channel)
entry = feedback.SubmitFeedback(
    feedback_service_pb2.SubmitFeedbackRequest(
        feedback=feedback_pb2.FeedbackEntry(
            kind=feedback_pb2.FEEDBACK_KIND_PRAISE, text="Quick and friendly.", channel=channel_pb2.CHANNEL_WEB
        ),
        request_id=str(uuid.uuid4()),
    ),
    metadata=as_customer,
    timeout=10,
)
check("feedback: a customer key sends feedback as that customer", entry.customer == customer.name, entry)
check(
    "a customer key may not list customers: PERMISSION_DENIED",
    code_of(
        lambda: customers.ListCustomers(
            customer_service_pb2.ListCustomersRequest(), metadata=as_customer, timeout=5
        )
    )
    == grpc.StatusCode.PERMISSION_DENIED,
)

# A server stream through the gateway: the ticket's creation is in the tickets event stream.
stream = tickets.WatchEvents(ticket_service_pb2.WatchEventsRequest(), metadata=auth, timeout=10)
seen = False
try:
    for message in stream:
        if message.event.type == event_pb2.EVENT_TYPE_TICKET_CREATED and message.event.resource == ticket.name:
            seen = True
            break
finally:
    stream.cancel()
check("tickets: WatchEvents streams the ticket's creation", seen)

# Refusals: no key, and a method nobody serves.
check(
    "no key: UNAUTHENTICATED",
    code_of(lambda: customers.GetCustomer(customer_service_pb2.GetCustomerRequest(name=customer.name), timeout=5))
    == grpc.StatusCode.UNAUTHENTICATED,
)
unknown = channel.unary_unary("/kefu.nothing.v1.NothingService/Nothing")
check(
    "unknown service: UNIMPLEMENTED",
    code_of(lambda: unknown(b"", metadata=auth, timeout=5)) == grpc.StatusCode.UNIMPLEMENTED,
)

passed, failed = results.count(True), results.count(False)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
