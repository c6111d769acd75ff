"""schemathesis hooks: how to send the one body that is not JSON (a regime's TOML source)."""

import schemathesis


@schemathesis.serializer("application/toml")
def toml_text(ctx, value):
    # The document says the body is a string; anything else generated goes as its text.
    return value if isinstance(value, bytes) else str(value).encode("utf-8")
