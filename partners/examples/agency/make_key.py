"""Make the agency's key pair: the private key stays here, the public JWK goes to Dinsos.

    python make_key.py agency-key.pem agency-public.json

Dinsos then registers the public key (`hub clients create --org DINKES --role opd_officer
--jwk agency-public.json --no-secret`, or `hub clients add-key CLIENT_ID --jwk …` to add
a second key while rotating) and sends back the client id.
"""

from __future__ import annotations

import json
import os
import sys

from joserfc.jwk import ECKey


def main(private_path: str, public_path: str) -> None:
    key = ECKey.generate_key("P-256", private=True)
    # Only the owner may read the private key.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.as_pem(private=True))
    # The RFC 7638 thumbprint as the key id, so the agency and the hub name the key alike.
    jwk = {**key.as_dict(private=False), "kid": key.thumbprint(), "alg": "ES256", "use": "sig"}
    with open(public_path, "w") as out:
        json.dump(jwk, out, indent=2)
    print(
        f"private key: {private_path} (keep it here)\npublic JWK:  {public_path} (send to Dinsos)"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
