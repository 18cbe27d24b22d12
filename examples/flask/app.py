"""A Flask backend that accepts Sesame access tokens, verified offline with the published JWKS.

    SESAME_URL=http://localhost:8080 APP_URL=http://localhost:5000 python3 app.py

Routes:
  GET /api/user        the signed-in user's id and email (Bearer token, or the session cookie set by /callback)
  GET /api/sensitive   the same, but asks Sesame (introspection) so a sign-out takes effect at once
  GET /login           sends the browser to Sesame's hosted sign-in (redirect flow with PKCE)
  GET /callback        exchanges the one-time code for tokens and keeps them in the Flask session cookie
"""
import base64
import hashlib
import json
import os
import secrets
import urllib.parse
import urllib.request

import jwt
from flask import Flask, abort, g, jsonify, redirect, request, session

SESAME_URL = os.environ.get("SESAME_URL", "http://localhost:8080").rstrip("/")
ISSUER = os.environ.get("SESAME_ISSUER", SESAME_URL)  # SESAME_PUBLIC_URL of the server
AUDIENCE = os.environ.get("SESAME_AUDIENCE", ISSUER)  # SESAME_TOKEN_AUDIENCE of the server
APP_URL = os.environ.get("APP_URL", "http://localhost:5000").rstrip("/")
SERVICE_KEY = os.environ.get("SESAME_SERVICE_KEY")  # for /api/sensitive: java -jar sesame.jar service-key create flask

app = Flask(__name__)
app.secret_key = os.environ.get("SESSION_SECRET") or secrets.token_bytes(32)
app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                  SESSION_COOKIE_SECURE=APP_URL.startswith("https://"))

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
    verifier = secrets.token_urlsafe(48)
    session["pkce_verifier"] = verifier
    session["oauth_state"] = secrets.token_urlsafe(16)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({"redirectTo": f"{APP_URL}/callback", "state": session["oauth_state"],
                                    "code_challenge": challenge, "code_challenge_method": "S256"})
    return redirect(f"{SESAME_URL}/login?{query}")


@app.get("/callback")
def callback():
    state = session.pop("oauth_state", None)
    verifier = session.pop("pkce_verifier", None)
    if not state or request.args.get("state") != state or not verifier:
        abort(400)
    body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": request.args.get("code", ""),
                                   "redirect_uri": f"{APP_URL}/callback", "code_verifier": verifier}).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{SESAME_URL}/v1/token", data=body), timeout=5) as r:
            tokens = json.load(r)
    except urllib.error.HTTPError:
        abort(401)
    session["access_token"] = tokens["access_token"]
    return redirect("/")


@app.get("/")
def home():
    return "<p>Signed in.</p>" if session.get("access_token") else '<a href="/login">Sign in</a>'


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
