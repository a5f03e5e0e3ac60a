// Command rawrate measures the machine's raw verification rate for -alg: one
// crypto/rsa VerifyPKCS1v15 (RS256) or VerifyPSS (PS256), crypto/ecdsa
// Verify (ES256) of a SHA-256 digest of a token's signing input, or
// crypto/ed25519 Verify of the input itself (EdDSA), of a signature
// decoded from base64url each time, per operation, on
// -workers goroutines (default: all CPUs), for -d. It
// prints two rates: verifications per second of wall time, and per second
// of CPU time (user+system) the process used while verifying. It is the
// baseline the streaming verify is compared with, in the same run of
// bench/verify.sh; on a shared machine the CPU-time rate is the steadier
// of the two.
//
// With -turns it is bench/turns's baseline instead: once its key is made it
// stops itself (SIGSTOP), verifies whenever it is continued, and on SIGTERM
// prints the verifications it made and the CPU seconds they took, so that
// turns can give it and claimcheck the machine in alternate slices.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	d := flag.Duration("d", 5*time.Second, "how long to measure")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "goroutines")
	inputLen := flag.Int("input", 400, "bytes of signing input (a typical header.payload)")
	alg := flag.String("alg", "RS256", "RS256, PS256, ES256 or EdDSA")
	turns := flag.Bool("turns", false, "stop once ready, verify until SIGTERM, print the count and CPU seconds")
	flag.Parse()
	input := []byte(strings.Repeat("x", *inputLen))
	verify, err := verifier(*alg, input)
	if err != nil {
		log.Fatal(err)
	}
	var term chan os.Signal
	if *turns {
		term = make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		// Ready: wait, stopped, for the first turn.
		if err := syscall.Kill(os.Getpid(), syscall.SIGSTOP); err != nil {
			log.Fatal(err)
		}
	}
	// CPU time is counted from here: generating the key above is not
	// verification work.
	cpu0 := cpuTime()
	var ops atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for !stop.Load() {
				if !verify() {
					log.Fatal("rawrate: the signature does not verify")
				}
				n++
			}
			ops.Add(n)
		}()
	}
	if *turns {
		<-term
	} else {
		time.Sleep(*d)
	}
	stop.Store(true)
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	if *turns {
		// turns knows how long it ran: the wall time here counts the
		// slices it spent stopped.
		fmt.Printf("%d %.6f\n", ops.Load(), cpu)
		return
	}
	fmt.Printf("%.0f %.0f\n", float64(ops.Load())/wall, float64(ops.Load())/cpu)
}

// cpuTime is the user and system time the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// verifier signs input with a fresh key for alg and returns one
// verification of it as a JWS verifier does it: the signature decoded
// from its base64url segment, the input hashed, the signature checked.
// Decoding and hashing are work no verifier can skip; everything else a
// token costs (its header and claims) is what the comparison measures.
func verifier(alg string, input []byte) (func() bool, error) {
	digest := sha256.Sum256(input)
	// seg is the signature segment of a token, set once signed.
	var seg string
	decode := func(buf []byte) []byte {
		n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
		if err != nil {
			log.Fatal(err)
		}
		return buf[:n]
	}
	switch alg {
	case "RS256", "PS256":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		pub := &key.PublicKey
		if alg == "RS256" {
			sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
			seg = base64.RawURLEncoding.EncodeToString(sig)
			return func() bool {
				var buf [256]byte
				h := sha256.Sum256(input)
				return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], decode(buf[:])) == nil
			}, err
		}
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}
		sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], opts)
		seg = base64.RawURLEncoding.EncodeToString(sig)
		return func() bool {
			var buf [256]byte
			h := sha256.Sum256(input)
			return rsa.VerifyPSS(pub, crypto.SHA256, h[:], decode(buf[:]), opts) == nil
		}, err
	case "ES256":
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			return nil, err
		}
		// RFC 7518 section 3.4: R and S as 32-byte big-endian octets.
		var sig [64]byte
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		seg = base64.RawURLEncoding.EncodeToString(sig[:])
		return func() bool {
			var buf [64]byte
			b := decode(buf[:])
			h := sha256.Sum256(input)
			return ecdsa.Verify(&key.PublicKey, h[:], new(big.Int).SetBytes(b[:32]), new(big.Int).SetBytes(b[32:]))
		}, nil
	case "EdDSA":
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		seg = base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, input))
		return func() bool {
			var buf [64]byte
			return ed25519.Verify(pub, input, decode(buf[:]))
		}, err
	}
	return nil, fmt.Errorf("rawrate: unknown -alg %q (want RS256, PS256, ES256 or EdDSA)", alg)
}
