"""Property-based test of the JSON API against its own OpenAPI document (schemathesis): for requests generated
from the served document, no 5xx and no response that contradicts the document (status codes, content types,
response schemas, 422 for what the document forbids)."""
import hashlib

import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

import clock
from extensions import db
from models import ApiKey, User

KEY = "yy_property-test-key-0123456789abcdefghijklmnop"
EXAMPLES_PER_OPERATION = 8


def add_key(app, username="demo-general"):
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        db.session.add(ApiKey(user_id=user.id, name="schemathesis", prefix=KEY[:11],
                              key_hash=hashlib.sha256(KEY.encode()).hexdigest(), created_at=clock.now()))
        db.session.commit()


def test_api_conforms_to_its_openapi_document(app, live_server):
    add_key(app)
    # Over real HTTP (not the WSGI shortcut): responses arrive compressed, as a broker's client receives them.
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def conforms(case):
            # A request the document allows may still be refused by a rule the document cannot express (R11's
            # deadline, an unknown consignee): that is the documented 400 with its refusals, not a contradiction.
            case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"},
                                   excluded_checks=[schemathesis.checks.positive_data_acceptance])

        conforms()
