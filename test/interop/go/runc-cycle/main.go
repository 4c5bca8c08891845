// runc-cycle: the natural baseline of a container's lifecycle, bare runc driven by a small Go process.
// Run it inside the namespaces the agent uses (nsenter), once; it reads one command a line on stdin and
// answers each with one JSON line on stdout:
//
//	split ID   runc create (pid file, stdio /dev/null), runc start, wait for the init, runc delete
//	run ID     runc run (foreground: runc waits for the init itself)
//	up ID      runc create and runc start, the container left running
//	exec ID    runc exec ID true (foreground)
//	down ID    runc kill ID KILL, wait for the init, runc delete
//
// It is a child subreaper, as berth is, so it reaps the init `runc create` leaves behind with wait4,
// as berth's reaper does. Flags: --runc (binary), --root (runc's state dir), --bundle.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const prSetChildSubreaper = 36

type result struct {
	Create float64 `json:"create_ms,omitempty"`
	Start  float64 `json:"start_ms,omitempty"`
	Wait   float64 `json:"wait_ms,omitempty"`
	Delete float64 `json:"delete_ms,omitempty"`
	Run    float64 `json:"run_ms,omitempty"`
	Exec   float64 `json:"exec_ms,omitempty"`
	Error  string  `json:"error,omitempty"`
}

func ms(since time.Time) float64 { return float64(time.Since(since).Microseconds()) / 1000 }

// runc runs one verb, its stdio /dev/null: the init `runc create` leaves behind inherits runc's stdio, and a
// pipe there would stay open for the container's life.
func runc(binary, root string, args ...string) error {
	if err := exec.Command(binary, append([]string{"--root", root}, args...)...).Run(); err != nil {
		return fmt.Errorf("runc %s: %v", strings.Join(args, " "), err)
	}
	return nil
}

// up creates and starts container id, and returns its init's pid.
func up(binary, root, bundle, id string) (r result, pid int, err error) {
	pidFile := filepath.Join(os.TempDir(), "runc-cycle-"+id+".pid")
	defer os.Remove(pidFile)
	t := time.Now()
	if err = runc(binary, root, "create", "--bundle", bundle, "--pid-file", pidFile, id); err != nil {
		return
	}
	r.Create = ms(t)
	text, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	if pid, err = strconv.Atoi(strings.TrimSpace(string(text))); err != nil {
		return
	}
	t = time.Now()
	err = runc(binary, root, "start", id)
	r.Start = ms(t)
	return
}

// reap waits for child pid (the init runc left to this subreaper) to exit.
func reap(pid int) error {
	var status syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &status, 0, nil)
		if err != syscall.EINTR {
			return err
		}
	}
}

func split(binary, root, bundle, id string) (r result, err error) {
	r, pid, err := up(binary, root, bundle, id)
	if err != nil {
		return
	}
	t := time.Now()
	if err = reap(pid); err != nil {
		return
	}
	r.Wait = ms(t)
	t = time.Now()
	err = runc(binary, root, "delete", id)
	r.Delete = ms(t)
	return
}

// inits holds the pid of each container `up` left running, for `down` to wait for.
var inits = map[string]int{}

func execTrue(binary, root, id string) (r result, err error) {
	t := time.Now()
	err = runc(binary, root, "exec", id, "true")
	r.Exec = ms(t)
	return
}

func down(binary, root, id string) (r result, err error) {
	t := time.Now()
	if err = runc(binary, root, "kill", id, "KILL"); err != nil {
		return
	}
	err = reap(inits[id])
	delete(inits, id)
	if err != nil {
		return
	}
	err = runc(binary, root, "delete", id)
	r.Delete = ms(t)
	return
}

func run(binary, root, bundle, id string) (r result, err error) {
	t := time.Now()
	err = runc(binary, root, "run", "--bundle", bundle, id)
	r.Run = ms(t)
	return
}

func main() {
	binary := flag.String("runc", "runc", "runc binary")
	root := flag.String("root", "", "runc --root")
	bundle := flag.String("bundle", "", "OCI bundle")
	flag.Parse()
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		fmt.Fprintf(os.Stderr, "prctl(PR_SET_CHILD_SUBREAPER): %v\n", e)
		os.Exit(1)
	}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) != 2 {
			out.Encode(result{Error: "want: split|run|up|exec|down ID"})
			continue
		}
		var r result
		var err error
		switch fields[0] {
		case "split":
			r, err = split(*binary, *root, *bundle, fields[1])
		case "run":
			r, err = run(*binary, *root, *bundle, fields[1])
		case "up":
			var pid int
			r, pid, err = up(*binary, *root, *bundle, fields[1])
			if err == nil {
				inits[fields[1]] = pid
			}
		case "exec":
			r, err = execTrue(*binary, *root, fields[1])
		case "down":
			r, err = down(*binary, *root, fields[1])
		default:
			err = fmt.Errorf("unknown command %q", fields[0])
		}
		if err != nil {
			r.Error = err.Error()
		}
		out.Encode(r)
	}
}
