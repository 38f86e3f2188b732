// Starting and stopping one burrowd process.
package burrowtest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readyLine is the one line burrowd prints on stdout once it accepts connections.
var readyLine = regexp.MustCompile(`^burrowd listening on (amqp://\S+).*?(http://\S+)`)

const stopGrace = 5 * time.Second // SIGTERM to SIGKILL

// Broker is one running burrowd. Its methods are safe for concurrent use.
type Broker struct {
	// URL is the AMQP URL, e.g. amqp://127.0.0.1:41234 (user guest/guest, vhost /).
	URL string
	// HTTPURL is the management API's base URL, e.g. http://127.0.0.1:39871.
	HTTPURL string

	cmd      *exec.Cmd
	stderr   *tail
	http     *http.Client
	exited   chan struct{} // closed when the process has exited
	exitErr  error         // cmd.Wait's result, valid once exited is closed
	stopOnce sync.Once
}

// Start starts burrowd for one test and stops it when the test and its subtests end
// (t.Cleanup). It fails the test with burrowd's stderr if the broker does not start.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	b, err := StartMain(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("burrowtest: stopping burrowd: %v\n--- stderr ---\n%s", err, b.Stderr())
		}
	})
	return b
}

// StartMain starts burrowd without a test, for a broker shared from TestMain; the caller
// must call Stop before os.Exit. It returns an error, quoting burrowd's stderr, if the binary
// cannot be run, exits early or prints no ready line within the start timeout.
func StartMain(opts ...Option) (*Broker, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	args := []string{"--in-memory", "--port", "0", "--http-port", "0", "--clock", cfg.clock,
		"--log-level", cfg.logLevel}
	if cfg.record {
		args = append(args, "--record")
	}
	args = append(args, cfg.extraArgs...)
	describe := cfg.binary + " " + strings.Join(args, " ")

	b := &Broker{
		stderr: &tail{limit: 8192},
		http:   &http.Client{Timeout: 10 * time.Second},
		exited: make(chan struct{}),
	}
	b.cmd = exec.Command(cfg.binary, args...)
	b.cmd.Stderr = b.stderr
	b.cmd.SysProcAttr = dieWithParent()
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("burrowtest: starting %s: %w (set BURROWD to the burrowd binary)",
			describe, err)
	}

	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r) // keep draining; burrowd prints nothing more on stdout
		b.exitErr = b.cmd.Wait()
		close(b.exited)
	}()

	fail := func(why string) (*Broker, error) {
		b.cmd.Process.Kill()
		<-b.exited
		return nil, fmt.Errorf("burrowtest: %s: %s\n--- stderr ---\n%s", describe, why, b.Stderr())
	}
	select {
	case line := <-lines:
		m := readyLine.FindStringSubmatch(line)
		if m == nil {
			if line == "" {
				return fail("exited before it was ready")
			}
			return fail("unexpected first line: " + line)
		}
		b.URL, b.HTTPURL = m[1], m[2]
		return b, nil
	case <-time.After(cfg.startTimeout):
		return fail(fmt.Sprintf("no ready line within %v", cfg.startTimeout))
	}
}

// Stop sends SIGTERM, upon which burrowd closes every connection with 320 CONNECTION_FORCED
// (as RabbitMQ does when it shuts down), waits for the exit (SIGKILL after 5 s) and reports a
// non-zero exit. Later calls return nil and do nothing.
func (b *Broker) Stop() error {
	var err error
	b.stopOnce.Do(func() {
		b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(stopGrace):
			b.cmd.Process.Kill()
			<-b.exited
		}
		err = b.exitErr
	})
	return err
}

// Stderr returns the last 8 KiB burrowd wrote to stderr, for a failing test's message.
func (b *Broker) Stderr() string { return b.stderr.String() }

// tail keeps the last limit bytes written to it.
type tail struct {
	mu    sync.Mutex
	buf   []byte
	limit int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.limit {
		t.buf = t.buf[len(t.buf)-t.limit:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
