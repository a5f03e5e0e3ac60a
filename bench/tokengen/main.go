// Command tokengen is the benchmark's issuer: it makes a key for -alg
// (RS256, PS256, ES256 or EdDSA), serves a discovery document advertising
// that algorithm and a JWKS on loopback (counting the requests), and writes
// n ID tokens signed with that key, one per line.
//
// Signing is far slower than verifying, so it signs -unique distinct tokens
// (different sub and jti) and writes them round-robin; the verifier caches
// nothing per token, so each line costs a full verification.
//
//	tokengen -n 100000 -out tokens.txt -issuer-file issuer.txt
//
// It serves until it gets SIGTERM or SIGINT; GET /stats returns the
// request counts as JSON.
package main

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func main() {
	n := flag.Int("n", 100000, "tokens to write")
	unique := flag.Int("unique", 2000, "distinct tokens to sign")
	out := flag.String("out", "tokens.txt", "file to write the tokens to")
	issuerFile := flag.String("issuer-file", "", "file to write the issuer URL to once serving")
	clientID := flag.String("client-id", "bench", "aud of the tokens")
	jwksOut := flag.String("jwks-out", "", "also write the JWKS (public key) to this file")
	alg := flag.String("alg", "RS256", "signing algorithm: RS256, PS256, ES256 or EdDSA")
	flag.Parse()
	if *unique < 1 || *n < 0 {
		log.Fatal("tokengen: -unique must be at least 1 and -n at least 0")
	}

	key, err := newKey(*alg)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "bench-1", Algorithm: *alg, Use: "sig"}}}
	if *jwksOut != "" {
		b, _ := json.Marshal(jwks)
		if err := os.WriteFile(*jwksOut, b, 0o644); err != nil {
			log.Fatal(err)
		}
	}

	var discoveryHits, jwksHits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		discoveryHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": issuer, "jwks_uri": issuer + "/keys",
			"authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/token",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{*alg},
		})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		jwksHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(jwks)
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]int64{"discovery": discoveryHits.Load(), "jwks": jwksHits.Load()})
	})

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(*alg), Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "bench-1"))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	tokens := make([]string, *unique)
	for i := range tokens {
		payload, _ := json.Marshal(map[string]any{
			"iss": issuer, "sub": fmt.Sprintf("user-%d", i), "aud": *clientID,
			"exp": now.Add(24 * time.Hour).Unix(), "iat": now.Unix(), "jti": fmt.Sprintf("jti-%d", i),
			"email": fmt.Sprintf("user-%d@example.com", i), "groups": []string{"Everyone", "IT"},
		})
		jws, err := signer.Sign(payload)
		if err != nil {
			log.Fatal(err)
		}
		if tokens[i], err = jws.CompactSerialize(); err != nil {
			log.Fatal(err)
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range *n {
		w.WriteString(tokens[i%len(tokens)])
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if *issuerFile != "" {
		if err := os.WriteFile(*issuerFile, []byte(issuer+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	srv.Close()
}

// newKey makes a key for alg: RSA 2048 bits, P-256 or Ed25519.
func newKey(alg string) (crypto.Signer, error) {
	switch alg {
	case "RS256", "PS256":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("tokengen: unknown -alg %q (want RS256, PS256, ES256 or EdDSA)", alg)
}
