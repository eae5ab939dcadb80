# Signs a rule bundle or a desired status for pitcrew units: python3 sign.py KEY.pem FILE.json
import base64, hashlib, json, sys
from cryptography.hazmat.primitives import serialization

key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)  # `pitcrew keygen`'s
raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
payload = open(sys.argv[2], "rb").read()  # the JSON the units get, byte for byte
print(json.dumps({
    "payload": base64.b64encode(payload).decode(),
    "signature": base64.b64encode(key.sign(payload)).decode(),
    "key_id": hashlib.sha256(raw).hexdigest()[:16],
}))
