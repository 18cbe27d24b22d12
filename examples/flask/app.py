"""A Flask app that signs people in with Sesame through Authlib (OpenID Connect, standard configuration only) and
accepts Sesame access tokens on its API, verified offline with the published JWKS.

    SESAME_URL=http://localhost:8080 APP_URL=http://localhost:5000 \
    SESAME_CLIENT_ID=flask SESAME_CLIENT_SECRET=... python3 app.py

Routes:
  GET /login           sends the browser to Sesame's authorization endpoint (Authlib: PKCE, state and nonce)
  GET /callback        Authlib exchanges the code and validates the ID token; the tokens go in the session cookie
  GET /logout          ends the session here and at Sesame (RP-initiated logout), back to /
  GET /api/user        the signed-in user's id and email (Bearer token, or the session cookie set by /callback)
  GET /api/sensitive   the same, but asks Sesame (introspection) so a sign-out takes effect at once
"""
import json
import os
import secrets
import urllib.parse
import urllib.request

import jwt
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, g, jsonify, redirect, request, session

SESAME_URL = os.environ.get("SESAME_URL", "http://localhost:8080").rstrip("/")
ISSUER = os.environ.get("SESAME_ISSUER", SESAME_URL)  # SESAME_PUBLIC_URL of the server
CLIENT_ID = os.environ.get("SESAME_CLIENT_ID", "flask")
# Accepted audiences: this app's own client id (Sesame issues an app's tokens to the app itself, so a token given to
# another app is refused) and SESAME_TOKEN_AUDIENCE (tokens of Sesame's hosted pages and <sesame-auth>, e.g. from a
# single-page front end of this backend). SESAME_AUDIENCE, comma-separated, replaces both.
AUDIENCE = os.environ.get("SESAME_AUDIENCE", CLIENT_ID + "," + ISSUER).split(",")
APP_URL = os.environ.get("APP_URL", "http://localhost:5000").rstrip("/")
SERVICE_KEY = os.environ.get("SESAME_SERVICE_KEY")  # for /api/sensitive: java -jar sesame.jar service-key create flask

app = Flask(__name__)
app.secret_key = os.environ.get("SESSION_SECRET") or secrets.token_bytes(32)
app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                  SESSION_COOKIE_SECURE=APP_URL.startswith("https://"))

# The OpenID Connect client: everything else comes from Sesame's discovery document.
oauth = OAuth(app)
oauth.register(
    "sesame",
    server_metadata_url=f"{SESAME_URL}/.well-known/openid-configuration",
    client_id=CLIENT_ID,
    client_secret=os.environ.get("SESAME_CLIENT_SECRET"),
    client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
)

# Caches the keys; fetches again when a token names a key it has not seen (after a key rotation).
jwks = jwt.PyJWKClient(f"{SESAME_URL}/.well-known/jwks.json", cache_keys=True, lifespan=300)


def verify(token):
    """Signature (a published key, ES256 or RS256 only: never 'none'), type, issuer, audience and expiry."""
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt":
        raise jwt.InvalidTokenError("not an access token")
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["ES256", "RS256"], audience=AUDIENCE, issuer=ISSUER,
                      options={"require": ["exp", "iat", "sub", "iss", "aud"]})


def bearer_or_session_token():
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):]
    return session.get("access_token")


@app.before_request
def require_sign_in():
    if not request.path.startswith("/api/"):
        return None
    token = bearer_or_session_token()
    if not token:
        abort(401)
    try:
        g.claims = verify(token)
    except (jwt.InvalidTokenError, jwt.PyJWKClientError):
        abort(401)
    g.token = token
    return None


@app.get("/api/user")
def user():
    return jsonify(id=g.claims["sub"], email=g.claims.get("email"))


@app.get("/api/sensitive")
def sensitive():
    # Offline verification can't see a sign-out until the token expires; introspection can.
    body = urllib.parse.urlencode({"token": g.token}).encode()
    req = urllib.request.Request(f"{SESAME_URL}/v1/introspect", data=body,
                                 headers={"Authorization": f"Bearer {SERVICE_KEY}"})
    with urllib.request.urlopen(req, timeout=5) as response:
        if not json.load(response).get("active"):
            abort(401)
    return jsonify(id=g.claims["sub"], email=g.claims.get("email"))


@app.get("/login")
def login():
    return oauth.sesame.authorize_redirect(f"{APP_URL}/callback")


@app.get("/callback")
def callback():
    # Checks state, exchanges the code (client_secret_basic + PKCE) and validates the ID token, nonce included.
    token = oauth.sesame.authorize_access_token()
    session["access_token"] = token["access_token"]
    session["id_token"] = token["id_token"]
    session["user"] = {"sub": token["userinfo"]["sub"], "email": token["userinfo"].get("email")}
    return redirect("/")


@app.get("/logout")
def logout():
    id_token = session.get("id_token")
    session.clear()
    if not id_token:
        return redirect("/")
    end_session = oauth.sesame.load_server_metadata()["end_session_endpoint"]
    query = urllib.parse.urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": f"{APP_URL}/"})
    return redirect(f"{end_session}?{query}")


@app.get("/")
def home():
    user = session.get("user")
    if user:
        return jsonify(signedIn=True, sub=user["sub"], email=user["email"])
    return '<a href="/login">Sign in</a>'


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
