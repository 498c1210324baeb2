"""Identity: the OAuth2 authorization server, the hub's signing keys and bearer validation.

keys.py       signing keys and where they live (file, environment, memory)
tokens.py     RFC 9068 access tokens: minting and verification
directory.py  client records for the token endpoint, and the status cache for tokens
server.py     authlib's synchronous server core, adapted to Starlette without blocking
routes.py     the Starlette routes of the authorization server
resource.py   bearer validation for protected endpoints (RFC 6750)
state.py      the one object that wires all of the above together
demo.py       one ready client per role for the demo

Clients, their credentials and the secret hashing are the organisations domain's
(`hub.organizations`); this layer only reads them (it writes its own tables, models.py).
"""
