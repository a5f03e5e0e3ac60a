// Command rawrate measures the machine's raw RS256 verification rate: one
// crypto/rsa VerifyPKCS1v15 of a SHA-256 digest of a token's signing input
// per operation, on -workers goroutines (default: all CPUs), for -d. It
// prints two rates: verifications per second of wall time, and per second
// of CPU time (user+system) the process used while verifying. It is the
// baseline the streaming verify is compared with, in the same run of
// bench/verify.sh; on a shared machine the CPU-time rate is the steadier
// of the two.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
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
	flag.Parse()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	input := []byte(strings.Repeat("x", *inputLen))
	digest := sha256.Sum256(input)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		log.Fatal(err)
	}
	pub := &key.PublicKey
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
				h := sha256.Sum256(input)
				if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
					log.Fatal(err)
				}
				n++
			}
			ops.Add(n)
		}()
	}
	time.Sleep(*d)
	stop.Store(true)
	wg.Wait()
	wall := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
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
