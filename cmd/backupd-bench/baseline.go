package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

func (b *bench) rclone(args ...string) *exec.Cmd {
	full := append([]string{"-u", "AWS_CA_BUNDLE", b.cfg.rclone, "--config", b.rcloneConf}, args...)
	return exec.Command("env", full...)
}

// usage is what wait4 reports for a finished process: the same figures as
// /usr/bin/time's %M, %U and %S.
func usage(c *exec.Cmd) (maxRSSKiB int64, cpu time.Duration) {
	ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	return ru.Maxrss, time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
	if out, err := cp.CombinedOutput(); err != nil {
		return m, fmt.Errorf("rclone copy: %w\n%s", err, out)
	}
	copyRSS, copyCPU := usage(cp)

	tar := exec.Command("tar", "-C", dir, "-cf", "-", ".")
	gz := exec.Command("gzip", "-6")
	rcat := b.rclone("rcat", "vgw:"+destBucket+"/backup.tar.gz")
	if err := pipe(tar, gz, rcat); err != nil {
		return m, err
	}
	m.wall = time.Since(start)
	vgw1, _ := cpuTime(b.peers.procs["versitygw"].pid())
	m.peerCPU = vgw1 - vgw0

	rcatRSS, rcatCPU := usage(rcat)
	_, tarCPU := usage(tar)
	_, gzCPU := usage(gz)
	m.peakRSSKiB = max(copyRSS, rcatRSS)
	m.cpu = copyCPU + rcatCPU + tarCPU + gzCPU

	head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(destBucket), Key: aws.String("backup.tar.gz")})
	if err != nil {
		return m, fmt.Errorf("the pipeline's backup.tar.gz is not at the destination: %w", err)
	}
	m.archiveSize = aws.ToInt64(head.ContentLength)
	return m, nil
}

// pipe runs first | second | third and waits for all three.
func pipe(cmds ...*exec.Cmd) error {
	var closeAfterStart []*os.File
	for i := 0; i+1 < len(cmds); i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		cmds[i].Stdout, cmds[i+1].Stdin = w, r
		closeAfterStart = append(closeAfterStart, r, w)
	}
	var stderr []*limitedBuffer
	for _, c := range cmds {
		buf := &limitedBuffer{max: 8 << 10}
		c.Stderr = buf
		stderr = append(stderr, buf)
	}
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			for _, f := range closeAfterStart {
				f.Close()
			}
			for _, started := range cmds[:i] {
				_ = started.Process.Kill()
				_ = started.Wait()
			}
			return fmt.Errorf("start %s: %w", c.Path, err)
		}
	}
	for _, f := range closeAfterStart {
		f.Close()
	}
	var first error
	for i, c := range cmds {
		if err := c.Wait(); err != nil && first == nil {
			first = fmt.Errorf("%s: %w\n%s", c.Args, err, stderr[i].String())
		}
	}
	return first
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
