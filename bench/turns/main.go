// Command turns measures a command that verifies a stream of tokens
// against the raw verification rate (bench/rawrate -turns) with both on the
// machine at once, taking turns: the stream runs for -slice, is stopped
// (SIGSTOP), rawrate runs for -slice, is stopped, and so on until the
// stream exits. Each one's rate is its work over the time it ran, and over
// the CPU time it used.
//
//	turns -raw bin/rawrate -alg RS256 -n 100000 -in tokens.txt -out out.jsonl -- claimcheck verify - …
//
// On a shared machine the speed of a CPU changes from one second to the
// next (in bench/verify.sh's rounds, the raw rate alone moved by 10% between
// two measurements seconds apart). Two measurements taken one after the
// other then differ by that much whatever they measure; slices of tens of
// milliseconds, alternating, see the same machine. It prints one line:
// the stream's tokens per second of its turns and per CPU-second, rawrate's
// verifications per second of its turns and per CPU-second, the two ratios,
// the stream's peak RSS in kB, and the number of turns each had.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"syscall"
	"time"
)

func main() {
	raw := flag.String("raw", "", "the rawrate binary")
	alg := flag.String("alg", "RS256", "rawrate's -alg")
	slice := flag.Duration("slice", 50*time.Millisecond, "how long each turn lasts")
	in := flag.String("in", "", "the stream's standard input")
	out := flag.String("out", os.DevNull, "the stream's standard output")
	n := flag.Int("n", 0, "tokens in -in: the stream's work")
	flag.Parse()
	if *raw == "" || *in == "" || *n <= 0 || flag.NArg() == 0 {
		log.Fatal("usage: turns -raw RAWRATE -alg ALG -n TOKENS -in FILE [-out FILE] [-slice D] -- COMMAND ARGS…")
	}
	log.SetFlags(0)
	log.SetPrefix("turns: ")

	rawOut, err := os.CreateTemp("", "turns-raw")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(rawOut.Name())
	rp := start([]string{*raw, "-alg", *alg, "-turns"}, nil, rawOut)
	rawEvents := watch(rp)
	// rawrate stops itself once its key is made.
	if ev := <-rawEvents; !ev.stopped {
		log.Fatalf("rawrate %s before it was ready", describe(ev.status))
	}

	inFile, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	outFile, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	sp := start(flag.Args(), inFile, outFile)
	streamEvents := watch(sp)

	var streamRun, rawRun time.Duration
	var streamEnd event
	turnsEach := 0
	t := time.Now()
	for {
		// The stream's turn: it began at t.
		timer := time.NewTimer(*slice)
		var ev event
		select {
		case ev = <-streamEvents:
			timer.Stop()
		case <-timer.C:
			signal(sp, syscall.SIGSTOP)
			ev = <-streamEvents
		}
		streamRun += ev.at.Sub(t)
		turnsEach++
		if !ev.stopped {
			streamEnd = ev
			break
		}
		// rawrate's turn.
		t = time.Now()
		signal(rp, syscall.SIGCONT)
		time.Sleep(*slice)
		signal(rp, syscall.SIGSTOP)
		ev = <-rawEvents
		if !ev.stopped {
			log.Fatalf("rawrate %s during its turn", describe(ev.status))
		}
		rawRun += ev.at.Sub(t)
		t = time.Now()
		// A stream stopped while it exited finishes exiting stopped: its
		// exit is then reported after the stop, and it is no longer
		// there to continue. Its time ran out at the stop.
		select {
		case ev = <-streamEvents:
			streamEnd = ev
		default:
			if err := syscall.Kill(sp.Pid, syscall.SIGCONT); err != nil {
				if err != syscall.ESRCH {
					log.Fatalf("signal %v to %d: %v", syscall.SIGCONT, sp.Pid, err)
				}
				streamEnd = <-streamEvents
			}
		}
		if streamEnd.at != (time.Time{}) {
			break
		}
	}
	// SIGTERM stays pending while rawrate is stopped; from SIGCONT to its
	// exit it may still verify, so that time is its too.
	signal(rp, syscall.SIGTERM)
	t = time.Now()
	signal(rp, syscall.SIGCONT)
	ev := <-rawEvents
	rawRun += ev.at.Sub(t)
	if !ev.status.Exited() || ev.status.ExitStatus() != 0 {
		log.Fatalf("rawrate %s", describe(ev.status))
	}
	if !streamEnd.status.Exited() || streamEnd.status.ExitStatus() != 0 {
		log.Fatalf("%s %s", flag.Arg(0), describe(streamEnd.status))
	}
	text, err := os.ReadFile(rawOut.Name())
	if err != nil {
		log.Fatal(err)
	}
	var ops int64
	var rawCPU float64
	if _, err := fmt.Sscan(string(bytes.TrimSpace(text)), &ops, &rawCPU); err != nil {
		log.Fatalf("rawrate printed %q: %v", text, err)
	}
	streamCPU := cpuSeconds(&streamEnd.usage)
	sw, sc := float64(*n)/streamRun.Seconds(), float64(*n)/streamCPU
	rw, rc := float64(ops)/rawRun.Seconds(), float64(ops)/rawCPU
	fmt.Printf("%.0f %.0f %.0f %.0f %.3f %.3f %d %d\n", sw, sc, rw, rc, sw/rw, sc/rc, streamEnd.usage.Maxrss, turnsEach)
}

// start starts argv with stdin and stdout (nil: /dev/null) and the
// standard error of turns.
func start(argv []string, stdin, stdout *os.File) *os.Process {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		log.Fatal(err)
	}
	if stdin == nil {
		stdin = devNull
	}
	if stdout == nil {
		stdout = devNull
	}
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{Files: []*os.File{stdin, stdout, os.Stderr}})
	if err != nil {
		log.Fatal(err)
	}
	return p
}

func signal(p *os.Process, sig syscall.Signal) {
	if err := syscall.Kill(p.Pid, sig); err != nil {
		log.Fatalf("signal %v to %d: %v", sig, p.Pid, err)
	}
}

// event is a child's stop or exit, and when turns saw it.
type event struct {
	at      time.Time
	stopped bool
	status  syscall.WaitStatus
	usage   syscall.Rusage
}

// watch reports p's stops and its exit. It reaps p itself with wait4,
// which os.Process.Wait cannot do: that does not report stops.
func watch(p *os.Process) <-chan event {
	ch := make(chan event, 1)
	go func() {
		for {
			var ev event
			_, err := syscall.Wait4(p.Pid, &ev.status, syscall.WUNTRACED, &ev.usage)
			ev.at = time.Now()
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				log.Fatalf("wait4 %d: %v", p.Pid, err)
			}
			ev.stopped = ev.status.Stopped()
			ch <- ev
			if !ev.stopped {
				return
			}
		}
	}()
	return ch
}

// describe says how a child ended.
func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "was killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("ended with exit status %d", ws.ExitStatus())
}

func cpuSeconds(ru *syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
