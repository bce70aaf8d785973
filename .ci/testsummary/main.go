// Command testsummary reads `go test -json` on stdin, prints a readable
// report (output of failed tests, one line per package) and exits non-zero
// when a test failed, a package failed to build, or no test ran at all.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	outputs := map[string]*strings.Builder{} // package/test -> output
	var passed, failed, skipped int
	var failedNames []string
	pkgResult := map[string]string{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			fmt.Println(string(line)) // build errors are plain text
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			b := outputs[key]
			if b == nil {
				b = &strings.Builder{}
				outputs[key] = b
			}
			if b.Len() < 1<<20 {
				b.WriteString(e.Output)
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				pkgResult[e.Package] = fmt.Sprintf("%-4s %s (%.1fs)", e.Action, e.Package, e.Elapsed)
				if e.Action == "fail" {
					if b := outputs[key]; b != nil {
						fmt.Print(b.String())
					}
				}
				continue
			}
			if strings.Contains(e.Test, "/") { // subtests are counted with their parent
				if e.Action == "fail" {
					failedNames = append(failedNames, e.Package+"."+e.Test)
				}
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "skip":
				skipped++
				fmt.Printf("SKIP %s.%s\n", e.Package, e.Test)
			case "fail":
				failed++
				failedNames = append(failedNames, e.Package+"."+e.Test)
				if b := outputs[key]; b != nil {
					fmt.Printf("--- FAIL %s.%s\n%s\n", e.Package, e.Test, b.String())
				}
			}
			delete(outputs, key)
		}
	}
	pkgs := make([]string, 0, len(pkgResult))
	for p := range pkgResult {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		fmt.Println(pkgResult[p])
	}
	pkgFailed := 0
	for _, r := range pkgResult {
		if strings.HasPrefix(r, "fail") {
			pkgFailed++
		}
	}
	fmt.Printf("\ntests: %d passed, %d failed, %d skipped; packages failed: %d\n", passed, failed, skipped, pkgFailed)
	for _, n := range failedNames {
		fmt.Println("FAILED:", n)
	}
	switch {
	case failed > 0 || pkgFailed > 0:
		os.Exit(1)
	case passed == 0:
		fmt.Println("no test ran")
		os.Exit(1)
	}
}
