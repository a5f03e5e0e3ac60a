package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds how long a provider may take to answer discovery.
const StartTimeout = 60 * time.Second

// logTailBytes is how much of a provider's log a failed test shows.
const logTailBytes = 64 << 10

// process is a provider (or other server) started for one test.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error

	mu    sync.Mutex
	lines chan string // stdout lines, when asked for
}

// startProcess starts cmd in its own process group with stdout and stderr
// appended to logPath. When stdoutLines is true, stdout lines are also
// delivered on p.lines. On t.Cleanup the process gets SIGTERM (SIGKILL after
// 5s), and if the test failed the tail of its log is shown.
func startProcess(t testing.TB, name, logPath string, cmd *exec.Cmd, stdoutLines bool) *process {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("%s: log file: %v", name, err)
	}
	fmt.Fprintf(logFile, "### %s: %s\n", name, strings.Join(cmd.Args, " "))
	p := &process{name: name, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = logFile
	var stdout io.ReadCloser
	if stdoutLines {
		stdout, err = cmd.StdoutPipe()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p.lines = make(chan string, 64)
	} else {
		cmd.Stdout = logFile
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("%s: starting %s: %v", name, cmd.Path, err)
	}
	var copyDone sync.WaitGroup
	if stdoutLines {
		copyDone.Add(1)
		go func() {
			defer copyDone.Done()
			defer close(p.lines)
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				p.mu.Lock()
				fmt.Fprintln(logFile, line)
				p.mu.Unlock()
				select {
				case p.lines <- line:
				default:
				}
			}
		}()
	}
	go func() {
		copyDone.Wait()
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s log (%s), last %d KiB ---\n%s--- end of %s log ---", name, logPath, logTailBytes>>10, tail(logPath, logTailBytes), name)
		}
	})
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL after 5 seconds.
func (p *process) stop() {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	p.logFile.Close()
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)\n", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)\n", err)
	}
	off := int64(0)
	if fi.Size() > n {
		off = fi.Size() - n
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, fi.Size()-off))
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)\n", err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return string(b)
}

// waitDiscovery polls issuer's discovery document until it answers 200 with
// the same issuer, the process dies, or StartTimeout passes. tlsConfig, when
// set, is the trust of an https issuer.
func waitDiscovery(p *process, issuer string, tlsConfig *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	if tlsConfig != nil {
		client.Transport = &http.Transport{TLSClientConfig: tlsConfig}
		defer client.CloseIdleConnections()
	}
	discovery := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	var last error
	for {
		if dead, err := p.exited(); dead {
			return fmt.Errorf("%s exited before it served discovery: %v", p.name, err)
		}
		last = checkDiscovery(ctx, client, discovery, issuer)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not serve %s within %v: %v", p.name, discovery, StartTimeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func checkDiscovery(ctx context.Context, client *http.Client, discovery, issuer string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, discovery, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("discovery is not JSON: %v", err)
	}
	if doc.Issuer != issuer {
		return fmt.Errorf("discovery names the issuer %q, not %q", doc.Issuer, issuer)
	}
	return nil
}

// Discovery fetches and decodes issuer's discovery document.
func Discovery(ctx context.Context, issuer string) (map[string]any, error) {
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var doc map[string]any
	dec := json.NewDecoder(io.LimitReader(resp.Body, 1<<20))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("GET %s: %v", url, err)
	}
	return doc, nil
}

// errAddrInUse reports whether a provider's log says its port was taken
// (between FreePort and the provider's own listen).
func errAddrInUse(logPath string) bool {
	return bytes.Contains([]byte(tail(logPath, 8<<10)), []byte("address already in use"))
}

var errStartRetry = errors.New("port taken, retry")
