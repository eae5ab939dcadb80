// Signs a rule bundle or a desired status for pitcrew units: go run sign.go KEY.pem FILE.json
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
)

func main() {
	block, _ := pem.Decode(must(os.ReadFile(os.Args[1]))) // `pitcrew keygen`'s private key
	key := must(x509.ParsePKCS8PrivateKey(block.Bytes)).(ed25519.PrivateKey)
	payload := must(os.ReadFile(os.Args[2])) // the JSON the units get, byte for byte
	sum := sha256.Sum256(key.Public().(ed25519.PublicKey))
	json.NewEncoder(os.Stdout).Encode(map[string]string{
		"payload":   base64.StdEncoding.EncodeToString(payload),
		"signature": base64.StdEncoding.EncodeToString(ed25519.Sign(key, payload)),
		"key_id":    hex.EncodeToString(sum[:])[:16],
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
