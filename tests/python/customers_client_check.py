"""Polyglot check: a Python client generated from proto/ calls a running kefu-customers.

It proves what a Python integrator depends on: the contracts compile with grpcio-tools,
v1alpha reflection (the only kind grpcio's reflection client speaks) lists the service, calls
work with a signed principal, and errors carry google.rpc.BadRequest details Python can read.

Usage: customers_client_check.py ADDRESS PRINCIPAL_TOKEN GENERATED_DIR
Prints one closing line "N passed, N failed" and exits non-zero on any failure.
"""

import sys
import uuid

sys.path.insert(0, sys.argv[3])

import grpc  # noqa: E402
from google.rpc import error_details_pb2  # noqa: E402
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc  # noqa: E402
from grpc_status import rpc_status  # noqa: E402
from kefu.common.v1 import customer_pb2 as common_customer_pb2  # noqa: E402
from kefu.customers.v1 import customer_pb2, customer_service_pb2, customer_service_pb2_grpc  # noqa: E402

ADDRESS, TOKEN = sys.argv[1], sys.argv[2]
results = []


def check(name, condition, detail=""):
    results.append(bool(condition))
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else f": {detail}"))


channel = grpc.insecure_channel(ADDRESS)
grpc.channel_ready_future(channel).result(timeout=10)
metadata = [("x-kefu-principal", TOKEN)]
stub = customer_service_pb2_grpc.CustomerServiceStub(channel)

# Reflection, v1alpha.
reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
responses = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
services = [s.name for s in next(responses).list_services_response.service]
check("v1alpha reflection lists the customers service", "kefu.customers.v1.CustomerService" in services, services)

# A create and a read.
email = f"py-{uuid.uuid4().hex[:8]}@example.com"
created = stub.CreateCustomer(
    customer_service_pb2.CreateCustomerRequest(
        customer=customer_pb2.Customer(display_name="Python Client", emails=[email], tier=common_customer_pb2.TIER_GOLD),
        request_id=str(uuid.uuid4()),
    ),
    metadata=metadata,
)
check("create returns a resource name", created.name.startswith("customers/"), created.name)
check("create keeps the tier", created.tier == common_customer_pb2.TIER_GOLD, created.tier)
fetched = stub.GetCustomer(customer_service_pb2.GetCustomerRequest(name=created.name), metadata=metadata)
check("get returns what create made", fetched == created, fetched)

# Bad input: INVALID_ARGUMENT with a BadRequest naming the field.
try:
    stub.CreateCustomer(
        customer_service_pb2.CreateCustomerRequest(customer=customer_pb2.Customer(display_name="", emails=["nope"])),
        metadata=metadata,
    )
    check("bad input is refused", False, "the call succeeded")
except grpc.RpcError as error:
    check("bad input is INVALID_ARGUMENT", error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.code())
    status = rpc_status.from_call(error)
    fields = []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            fields += [v.field for v in bad_request.field_violations]
    check("BadRequest names the bad fields", {"customer.display_name", "customer.emails[0]"} <= set(fields), fields)

# No principal: UNAUTHENTICATED.
try:
    stub.GetCustomer(customer_service_pb2.GetCustomerRequest(name=created.name))
    check("a call without a principal is refused", False, "the call succeeded")
except grpc.RpcError as error:
    check("a call without a principal is UNAUTHENTICATED", error.code() == grpc.StatusCode.UNAUTHENTICATED, error.code())

passed, failed = results.count(True), results.count(False)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
