package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The baseline is what an administrator scripts by hand
// (../shared/README.md): rclone copy to disk, then tar | gzip -6 | rclone
// rcat. Debian's rclone 1.60 refuses to start with AWS_CA_BUNDLE set.

const pipelineTool = "rclone+tar+gzip+rclone"

func (b *bench) writeRcloneConfig() (string, error) {
	path := filepath.Join(b.cfg.state, "rclone.conf")
	conf := fmt.Sprintf(`[vgw]
type = s3
provider = Other
access_key_id = %s
secret_access_key = %s
endpoint = %s
region = us-east-1
force_path_style = true
`, b.peers.s3.AccessKey, b.peers.s3.SecretKey, b.peers.s3.Endpoint)
	return path, os.WriteFile(path, []byte(conf), 0o600)
}

// timed wraps a command in /usr/bin/time (when installed), which reports
// the peak RSS (%M) and CPU time (%U, %S) of exactly that command. The
// bench's own wait4 figures would not do: a child forked from the bench
// starts its ru_maxrss from the bench's RSS.
type timed struct {
	cmd  *exec.Cmd
	file string // /usr/bin/time's report, "" when it is not installed
}

func (b *bench) timed(name string, args ...string) *timed {
	if b.timeBin == "" {
		return &timed{cmd: exec.Command(name, args...)}
	}
	f := filepath.Join(b.cfg.state, fmt.Sprintf("time-%d.txt", b.timedSeq.Add(1)))
	full := append([]string{"-f", "%M %U %S", "-o", f, name}, args...)
	return &timed{cmd: exec.Command(b.timeBin, full...), file: f}
}

func (b *bench) rclone(args ...string) *timed {
	return b.timed("env", append([]string{"-u", "AWS_CA_BUNDLE", b.cfg.rclone, "--config", b.rcloneConf}, args...)...)
}

// usage is the command's peak RSS and CPU time: from /usr/bin/time, or
// else the peak VmRSS sampled while it ran and its rusage CPU.
func (t *timed) usage(sampledKiB int64) (maxRSSKiB int64, cpu time.Duration, err error) {
	if t.file == "" {
		ru, _ := t.cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if ru != nil {
			cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		return sampledKiB, cpu, nil
	}
	data, err := os.ReadFile(t.file)
	if err != nil {
		return 0, 0, err
	}
	// The last line: a failing command adds "Command exited..." before it.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var user, sys float64
	if _, err := fmt.Sscanf(lines[len(lines)-1], "%d %f %f", &maxRSSKiB, &user, &sys); err != nil {
		return 0, 0, fmt.Errorf("/usr/bin/time wrote %q: %w", data, err)
	}
	return maxRSSKiB, time.Duration((user + sys) * float64(time.Second)), nil
}

// run starts the command and samples its RSS (used without /usr/bin/time).
func (t *timed) start() (*rssSampler, error) {
	if err := t.cmd.Start(); err != nil {
		return nil, err
	}
	return sampleRSS(t.cmd.Process.Pid, 50*time.Millisecond), nil
}

// runPipeline times the whole pipeline on a data set, from a clean
// temporary folder to backup.tar.gz at the destination.
func (b *bench) runPipeline(ctx context.Context, d dataset, destBucket string) (measurement, error) {
	m := measurement{tool: pipelineTool, data: d}
	if err := emptyBucket(ctx, b.s3, destBucket); err != nil {
		return m, err
	}
	dir := filepath.Join(b.cfg.state, "rclone-copy")
	if err := os.RemoveAll(dir); err != nil {
		return m, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return m, err
	}
	defer os.RemoveAll(dir)
	vgw0, _ := cpuTime(b.peers.procs["versitygw"].pid())

	start := time.Now()
	cp := b.rclone("copy", "vgw:"+d.bucket, dir)
	out := &limitedBuffer{max: 8 << 10}
	cp.cmd.Stdout, cp.cmd.Stderr = out, out
	sampler, err := cp.start()
	if err != nil {
		return m, fmt.Errorf("rclone copy: %w", err)
	}
	err = cp.cmd.Wait()
	copySampled := sampler.done()
	if err != nil {
		return m, fmt.Errorf("rclone copy: %w\n%s", err, out)
	}

	tar := b.timed("tar", "-C", dir, "-cf", "-", ".")
	gz := b.timed("gzip", "-6")
	rcat := b.rclone("rcat", "vgw:"+destBucket+"/backup.tar.gz")
	samples, err := pipe(tar, gz, rcat)
	if err != nil {
		return m, err
	}
	m.wall = time.Since(start)
	m.load = loadAverage()
	vgw1, _ := cpuTime(b.peers.procs["versitygw"].pid())
	m.peerCPU = vgw1 - vgw0

	var parts []string
	for i, t := range []*timed{cp, tar, gz, rcat} {
		sampled := copySampled
		if i > 0 {
			sampled = samples[i-1]
		}
		rss, cpu, err := t.usage(sampled)
		if err != nil {
			return m, err
		}
		m.cpu += cpu
		parts = append(parts, fmt.Sprintf("%s %.1f s / %s", []string{"copy", "tar", "gzip", "rcat"}[i], cpu.Seconds(), kib(rss)))
		if t == cp || t == rcat { // the rclone processes
			m.peakRSSKiB = max(m.peakRSSKiB, rss)
		}
	}

	m.detail = strings.Join(parts, ", ")

	head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(destBucket), Key: aws.String("backup.tar.gz")})
	if err != nil {
		return m, fmt.Errorf("the pipeline's backup.tar.gz is not at the destination: %w", err)
	}
	m.archiveSize = aws.ToInt64(head.ContentLength)
	return m, nil
}

// pipe runs first | second | third, waits for all, and returns the peak
// VmRSS sampled of each.
func pipe(cmds ...*timed) ([]int64, error) {
	var closeAfterStart []*os.File
	for i := 0; i+1 < len(cmds); i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmds[i].cmd.Stdout, cmds[i+1].cmd.Stdin = w, r
		closeAfterStart = append(closeAfterStart, r, w)
	}
	var stderr []*limitedBuffer
	for _, c := range cmds {
		buf := &limitedBuffer{max: 8 << 10}
		c.cmd.Stderr = buf
		stderr = append(stderr, buf)
	}
	var samplers []*rssSampler
	for i, c := range cmds {
		s, err := c.start()
		if err != nil {
			for _, f := range closeAfterStart {
				f.Close()
			}
			for j, started := range cmds[:i] {
				_ = started.cmd.Process.Kill()
				_ = started.cmd.Wait()
				samplers[j].done()
			}
			return nil, fmt.Errorf("start %s: %w", c.cmd.Args, err)
		}
		samplers = append(samplers, s)
	}
	for _, f := range closeAfterStart {
		f.Close()
	}
	var first error
	peaks := make([]int64, len(cmds))
	for i, c := range cmds {
		err := c.cmd.Wait()
		peaks[i] = samplers[i].done()
		if err != nil && first == nil {
			first = fmt.Errorf("%s: %w\n%s", c.cmd.Args, err, stderr[i].String())
		}
	}
	return peaks, first
}

// limitedBuffer keeps the first max bytes of a stream (stderr for errors).
type limitedBuffer struct {
	max int
	b   []byte
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
