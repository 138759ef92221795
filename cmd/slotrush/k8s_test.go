package main

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goyaml "github.com/goccy/go-yaml"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// k8sObjects are the manifests k8s printed, decoded strictly.
type k8sObjects struct {
	claims   []*corev1.PersistentVolumeClaim
	configs  []*corev1.ConfigMap
	segments *batchv1.Job // the Indexed Job
	merge    *batchv1.Job
}

// decodeManifests splits out into its YAML documents and decodes each
// strictly into its API type: a field the type does not have fails.
func decodeManifests(t *testing.T, out string) k8sObjects {
	t.Helper()
	var objs k8sObjects
	for i, doc := range strings.Split(out, "\n---\n") {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v\n%s", i+1, err, doc)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 PersistentVolumeClaim":
			c := &corev1.PersistentVolumeClaim{}
			objs.claims, obj = append(objs.claims, c), c
		case "v1 ConfigMap":
			c := &corev1.ConfigMap{}
			objs.configs, obj = append(objs.configs, c), c
		case "batch/v1 Job":
			j := &batchv1.Job{}
			if objs.segments == nil {
				objs.segments = j
			} else {
				objs.merge = j
			}
			obj = j
		default:
			t.Fatalf("document %d: unexpected %q %q\n%s", i+1, tm.APIVersion, tm.Kind, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("document %d (%s): strict decoding: %v", i+1, tm.Kind, err)
		}
	}
	if objs.segments == nil || objs.merge == nil {
		t.Fatalf("want two Jobs, the segments' and the merge's:\n%s", out)
	}
	return objs
}

// The decoding is strict: a misspelt field fails.
func TestK8sDecodingIsStrict(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, "k8s", "--scenario", "ci-smoke", "--segments", "2", "--target", "a=http://booking:8080")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Split(out, "\n---\n")[1]
	bad := strings.Replace(doc, "completionMode:", "completionMod:", 1)
	if err := yaml.UnmarshalStrict([]byte(bad), &batchv1.Job{}); err == nil {
		t.Errorf("a Job with completionMod decoded strictly")
	}
}

// The printed manifests: an Indexed Job of N pods whose pod i runs
// segment i+1/N from the start time into the claim, and a suspended merge
// Job reading what they write.
func TestK8sManifests(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 11, 58, 30, 500e6, time.FixedZone("MYT", 8*3600))
	o := &k8sOpts{scenario: "ci-smoke", segments: 5, targets: []string{"staging=http://booking.staging.svc:8080"},
		image: "registry.example/slotrush:v1", startIn: 2 * time.Minute, namespace: "load",
		cpu: "3", memory: "4Gi", storage: "2Gi", storageClass: "nfs", now: func() time.Time { return now }}
	p, err := o.plan()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.write(&buf); err != nil {
		t.Fatal(err)
	}
	objs := decodeManifests(t, buf.String())
	if len(objs.claims) != 1 || len(objs.configs) != 0 {
		t.Fatalf("%d claims, %d ConfigMaps; want one claim and no ConfigMap for a preset", len(objs.claims), len(objs.configs))
	}
	claim := objs.claims[0]
	if claim.Name != "slotrush-ci-smoke-parts" || claim.Namespace != "load" ||
		!slices.Equal(claim.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}) ||
		claim.Spec.Resources.Requests.Storage().String() != "2Gi" || *claim.Spec.StorageClassName != "nfs" {
		t.Errorf("claim %s/%s: %+v; want slotrush-ci-smoke-parts in load, ReadWriteMany, 2Gi, class nfs", claim.Namespace, claim.Name, claim.Spec)
	}
	j := objs.segments
	s := j.Spec
	if j.Name != "slotrush-ci-smoke" || j.Namespace != "load" || s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion ||
		s.Completions == nil || *s.Completions != 5 || s.Parallelism == nil || *s.Parallelism != 5 {
		t.Errorf("Job %s/%s: mode %v, completions %v, parallelism %v; want slotrush-ci-smoke in load, Indexed, 5, 5",
			j.Namespace, j.Name, s.CompletionMode, s.Completions, s.Parallelism)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 || s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("backoffLimitPerIndex %v, restartPolicy %q; want 0 and Never: a segment is never replayed", s.BackoffLimitPerIndex, s.Template.Spec.RestartPolicy)
	}
	if r := s.PodFailurePolicy.Rules; len(r) != 1 || r[0].Action != batchv1.PodFailurePolicyActionFailJob || !slices.Equal(r[0].OnExitCodes.Values, []int32{2}) {
		t.Errorf("podFailurePolicy %+v; want exit 2 to fail the Job", s.PodFailurePolicy)
	}
	checkPod(t, &s.Template.Spec, claim.Name, "3", "4Gi")
	wantStart := time.Date(2026, 11, 30, 4, 0, 30, 0, time.UTC)
	checkSegmentCommand(t, s.Template.Spec.Containers[0].Command, 5, "/parts/slotrush-ci-smoke", wantStart)

	m := objs.merge
	if m.Name != "slotrush-ci-smoke-merge" || m.Spec.Suspend == nil || !*m.Spec.Suspend || m.Spec.CompletionMode != nil {
		t.Errorf("merge Job %s: suspend %v; want slotrush-ci-smoke-merge, created suspended", m.Name, m.Spec.Suspend)
	}
	checkPod(t, &m.Spec.Template.Spec, claim.Name, "1", "4Gi")
	cmd := m.Spec.Template.Spec.Containers[0].Command
	if len(cmd) != 5 || cmd[0] != "slotrush" || cmd[1] != "merge" || cmd[3] != "--out" || cmd[4] != "/parts/slotrush-ci-smoke/merged" {
		t.Fatalf("merge command %q; want slotrush merge PATTERN --out /parts/slotrush-ci-smoke/merged", cmd)
	}
	for i := range 5 {
		part := fmt.Sprintf("/parts/slotrush-ci-smoke/part-%d/result.json", i)
		if ok, err := path.Match(cmd[2], part); !ok || err != nil {
			t.Errorf("merge pattern %q does not match %s", cmd[2], part)
		}
	}
	for _, want := range []string{
		"starting together at 2026-11-30T04:00:30Z",
		"kubectl -n load patch job/slotrush-ci-smoke-merge --type=merge -p '{\"spec\":{\"suspend\":false}}'",
		"kubectl -n load logs job/slotrush-ci-smoke-merge",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("manifests lack %q", want)
		}
	}
}

// checkPod checks a pod of k8s: one slotrush container, non-root, with
// Guaranteed resources and the claim mounted at /parts.
func checkPod(t *testing.T, spec *corev1.PodSpec, claim, cpu, memory string) {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers; want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != "registry.example/slotrush:v1" {
		t.Errorf("image %q; want registry.example/slotrush:v1", c.Image)
	}
	sc := spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != k8sUID {
		t.Errorf("pod security context %+v; want non-root, user %d", sc, k8sUID)
	}
	if sc == nil || len(sc.Sysctls) != 1 || sc.Sysctls[0].Name != "net.ipv4.ip_local_port_range" {
		t.Errorf("pod security context %+v; want the local port range widened", sc)
	}
	for _, rl := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		if rl.Cpu().String() != cpu || rl.Memory().String() != memory {
			t.Errorf("resources %v; want cpu %s, memory %s, requests = limits", c.Resources, cpu, memory)
		}
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != k8sPartsMount {
		t.Fatalf("mounts %+v; want the parts at %s", c.VolumeMounts, k8sPartsMount)
	}
	var found bool
	for _, v := range spec.Volumes {
		if v.Name == c.VolumeMounts[0].Name {
			found = v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim
		}
	}
	if !found {
		t.Errorf("volumes %+v; want %q from claim %s", spec.Volumes, c.VolumeMounts[0].Name, claim)
	}
}

// checkSegmentCommand checks that the segment pod of each index runs
// slotrush run with segment index+1/n from start, out into parts, flags
// that run itself accepts.
func checkSegmentCommand(t *testing.T, cmd []string, n int, parts string, start time.Time) {
	t.Helper()
	dash := slices.Index(cmd, "--")
	wantHead := []string{"slotrush", "k8s", "segment", "--of", strconv.Itoa(n), "--parts", parts}
	if dash < 0 || !slices.Equal(cmd[:dash], wantHead) {
		t.Fatalf("command %q; want %q -- RUN-FLAGS", cmd, wantHead)
	}
	for i := range n {
		args, err := segmentRunArgs(strconv.Itoa(i), n, parts, cmd[dash+1:])
		if err != nil {
			t.Fatalf("index %d: %v", i, err)
		}
		run := newRunCmd()
		if args[0] != "run" {
			t.Fatalf("index %d runs %q; want run", i, args)
		}
		if err := run.ParseFlags(args[1:]); err != nil {
			t.Fatalf("index %d: run %q: %v", i, args[1:], err)
		}
		f := run.Flags()
		seg, _ := f.GetString("segment")
		at, _ := f.GetString("start-at")
		out, _ := f.GetString("out")
		targets, _ := f.GetStringArray("target")
		quiet, _ := f.GetBool("quiet")
		if want := fmt.Sprintf("%d/%d", i+1, n); seg != want {
			t.Errorf("index %d: --segment %s; want %s", i, seg, want)
		}
		if got, err := time.Parse(time.RFC3339, at); err != nil || !got.Equal(start) {
			t.Errorf("index %d: --start-at %q (%v); want RFC 3339 %s", i, at, err, start.Format(time.RFC3339))
		}
		if want := fmt.Sprintf("%s/part-%d", parts, i); out != want {
			t.Errorf("index %d: --out %s; want %s", i, out, want)
		}
		if len(targets) != 1 || !strings.HasPrefix(targets[0], "staging=http") || !quiet {
			t.Errorf("index %d: targets %q, quiet %v; want the one target, quiet", i, targets, quiet)
		}
	}
}

// A scenario file goes to the pods in a ConfigMap, mounted where their
// --scenario points; the claim named by --out-volume is used, not printed.
func TestK8sScenarioFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(file, []byte(tinyScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, "k8s", "--scenario", file, "--segments", "1", "--target", "http://10.0.0.5:8080",
		"--out-volume", "shared-parts", "--name", "tiny-run", "--start-at", "2026-12-01T12:00:00+08:00", "--allow-partial")
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeManifests(t, out)
	if len(objs.claims) != 0 || len(objs.configs) != 1 {
		t.Fatalf("%d claims, %d ConfigMaps; want the claim given and one ConfigMap", len(objs.claims), len(objs.configs))
	}
	cm := objs.configs[0]
	sc, err := scenarios.Parse("configmap", []byte(cm.Data[k8sScenarioKey]))
	if err != nil || sc.Name != "tiny" || cm.Name != "tiny-run-scenario" {
		t.Errorf("ConfigMap %s holds %v, %v; want tiny-run-scenario holding scenario tiny", cm.Name, sc, err)
	}
	spec := objs.segments.Spec.Template.Spec
	cmd := spec.Containers[0].Command
	if i := slices.Index(cmd, "--scenario"); i < 0 || cmd[i+1] != k8sScenarioDir+"/"+k8sScenarioKey {
		t.Errorf("command %q; want --scenario %s/%s", cmd, k8sScenarioDir, k8sScenarioKey)
	}
	if i := slices.Index(cmd, "--start-at"); i < 0 || cmd[i+1] != "2026-12-01T04:00:00Z" {
		t.Errorf("command %q; want --start-at 2026-12-01T04:00:00Z", cmd)
	}
	if i := slices.Index(cmd, "--target"); i < 0 || cmd[i+1] != "10.0.0.5:8080=http://10.0.0.5:8080" {
		t.Errorf("command %q; want the bare URL named after its host", cmd)
	}
	var mounted, claimed bool
	for _, m := range spec.Containers[0].VolumeMounts {
		mounted = mounted || m.MountPath == k8sScenarioDir && m.ReadOnly
	}
	for _, v := range spec.Volumes {
		claimed = claimed || v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "shared-parts"
	}
	if !mounted || !claimed {
		t.Errorf("scenario mounted %v, claim shared-parts used %v; want both", mounted, claimed)
	}
	if m := objs.merge.Spec.Template.Spec.Containers[0].Command; m[len(m)-1] != "--allow-partial" {
		t.Errorf("merge command %q; want --allow-partial", m)
	}
}

func TestK8sRefuses(t *testing.T) {
	t.Parallel()
	ok := []string{"--scenario", "ci-smoke", "--segments", "2", "--target", "a=http://b:8080"}
	with := func(args ...string) []string { return append(append([]string{"k8s"}, ok...), args...) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"k8s", "--segments", "2", "--target", "a=http://b"}, "--scenario is required"},
		{[]string{"k8s", "--scenario", "no-such", "--segments", "2", "--target", "a=http://b"}, "no-such"},
		{[]string{"k8s", "--scenario", "ci-smoke", "--target", "a=http://b"}, "--segments 0: want 1 to"},
		{[]string{"k8s", "--scenario", "ci-smoke", "--segments", "2"}, "--target NAME=URL is required"},
		{with("--target", "c=http://d:8080"), "give one --target"},
		{[]string{"k8s", "--scenario", "ci-smoke", "--segments", "2", "--target", "ftp://x"}, "bad URL"},
		{with("--start-in", "0s"), "--start-in 0s: want a positive duration"},
		{with("--start-at", "noon"), "--start-at \"noon\": want an RFC 3339 time"},
		{with("--name", "Bad_Name"), "--name \"Bad_Name\""},
		{with("--name", strings.Repeat("a", 58)), "at most 57"},
		{with("--namespace", "Load"), "--namespace \"Load\""},
		{with("--out-volume", "no/slash"), "--out-volume \"no/slash\""},
		{with("--cpu", "two"), "--cpu \"two\": want a positive Kubernetes quantity"},
		{with("--memory", "0"), "--memory \"0\""},
		{with("--image", ""), "--image is empty"},
		{with("stray"), `unknown command "stray" for "slotrush k8s"`},
	} {
		out, err := runCmd(t, tc.args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) || out != "" {
			t.Errorf("slotrush %q: exit %d, %v, %d bytes out; want exit 2, %q and nothing printed", tc.args, exitCode(err), err, len(out), tc.want)
		}
	}
}

// The default name comes from the scenario's, made a DNS label.
func TestK8sDefaultName(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, "k8s", "--scenario", "jkjav-az-2021-05-26", "--segments", "3", "--target", "a=http://b:8080")
	if err != nil {
		t.Fatal(err)
	}
	if objs := decodeManifests(t, out); objs.segments.Name != "slotrush-jkjav-az-2021-05-26" {
		t.Errorf("Job name %q; want slotrush-jkjav-az-2021-05-26", objs.segments.Name)
	}
}

func TestSegmentRunArgs(t *testing.T) {
	t.Parallel()
	flags := []string{"--scenario", "demo", "--target", "a=http://b:8080", "-q"}
	got, err := segmentRunArgs("3", 4, "/parts/x", flags)
	want := []string{"run", "--scenario", "demo", "--target", "a=http://b:8080", "-q", "--segment", "4/4", "--out", "/parts/x/part-3"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("segmentRunArgs(3 of 4) = %q, %v; want %q", got, err, want)
	}
	for _, tc := range []struct {
		index string
		of    int
		parts string
		flags []string
		want  string
	}{
		{"", 4, "/p", nil, `$JOB_COMPLETION_INDEX "": want a completion index from 0 to 3`},
		{"4", 4, "/p", nil, "from 0 to 3"},
		{"-1", 4, "/p", nil, "from 0 to 3"},
		{"x", 4, "/p", nil, "from 0 to 3"},
		{"0", 0, "/p", nil, "--of 0"},
		{"0", 2, "", nil, "--parts DIR is required"},
		{"0", 2, "/p", []string{"--segment", "1/2"}, "run flag --segment"},
		{"0", 2, "/p", []string{"--out=/tmp"}, "run flag --out"},
	} {
		if _, err := segmentRunArgs(tc.index, tc.of, tc.parts, tc.flags); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("segmentRunArgs(%q, %d, %q, %q) = %v; want an error with %q", tc.index, tc.of, tc.parts, tc.flags, err, tc.want)
		}
	}
}

// k8s segment runs run with the pod's segment: here against a target that
// is down, which run refuses (exit 2) after creating the part's folder.
// Not parallel: it sets the environment.
func TestK8sSegmentRunsTheSegment(t *testing.T) {
	t.Setenv(k8sIndexEnv, "1")
	parts := t.TempDir()
	_, stderr, err := runMisuse(t, "k8s", "segment", "--of", "2", "--parts", parts, "--",
		"--scenario", "ci-smoke", "--target", "a=http://127.0.0.1:1", "--quiet", "--no-report")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "cannot read its inventory") {
		t.Errorf("segment against a target that is down: exit %d, %v; want run's exit 2", exitCode(err), err)
	}
	if !strings.Contains(stderr, "JOB_COMPLETION_INDEX=1: slotrush run --scenario ci-smoke") || !strings.Contains(stderr, "--segment 2/2 --out "+filepath.Join(parts, "part-1")) {
		t.Errorf("stderr %q; want the run it starts, segment 2/2 into part-1", stderr)
	}
	if _, err := os.Stat(filepath.Join(parts, "part-1")); err != nil {
		t.Errorf("part-1: %v; want run's --out", err)
	}
	t.Setenv(k8sIndexEnv, "")
	if _, err := runCmd(t, "k8s", "segment", "--of", "2", "--parts", parts, "--", "--scenario", "ci-smoke"); exitCode(err) != 2 ||
		!strings.Contains(err.Error(), "JOB_COMPLETION_INDEX") {
		t.Errorf("segment outside a pod: exit %d, %v; want exit 2 naming $JOB_COMPLETION_INDEX", exitCode(err), err)
	}
}

// k8sTinyScenario is a small crowd with a generous request timeout, so
// that two live segments of it pass on a loaded machine.
const k8sTinyScenario = `name: tiny-k8s
seed: 3
duration: 3s
inventory:
  days: 1
  daily_capacity: 30
  ppvs:
    - {id: a, name: A, state: s1}
    - {id: b, name: B, state: s2}
crowd:
  size: 40
  arrival: {shape: constant, over: 2s}
journey:
  request_timeout: 10s
  patience: 5s
designs:
  - name: per-ppv
`

// The printed manifests run: the segment pods' commands, run here side by
// side against one target (with the index each pod would get and the
// scenario file where the ConfigMap would be mounted), then the merge
// Job's command over the parts they wrote, give the whole crowd.
func TestK8sManifestsRunLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("two live segments")
	}
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(file, []byte(k8sTinyScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	_, url := startTarget(t, sc, "per-ppv", sc.BuildInventory(), nil)
	out, err := runCmd(t, "k8s", "--scenario", file, "--segments", "2", "--target", "a="+url, "--start-in", "3s")
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeManifests(t, out)
	parts := filepath.Join(dir, "parts")
	local := strings.NewReplacer(k8sPartsMount+"/slotrush-tiny-k8s", parts, path.Join(k8sScenarioDir, k8sScenarioKey), file)
	localize := func(args []string) []string {
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = local.Replace(a)
		}
		return out
	}
	cmd := localize(objs.segments.Spec.Template.Spec.Containers[0].Command)
	dash := slices.Index(cmd, "--")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		args, err := segmentRunArgs(strconv.Itoa(i), 2, parts, cmd[dash+1:])
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { _, errs[i] = runCmd(t, args...) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("segment pod %d: %v", i, err)
		}
	}
	merge := localize(objs.merge.Spec.Template.Spec.Containers[0].Command)
	if msg, err := runCmd(t, append(merge[1:], "--no-report")...); err != nil {
		t.Fatalf("merge %q: %v\n%s", merge, err, msg)
	}
	m, err := results.LoadResult(filepath.Join(parts, "merged", "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Designs[0]; d.Users.Arrived != 40 || paramValue(m, paramSegmentsMerged) != "1-2 of 2" || paramValue(m, paramStartSkew) == "" {
		t.Errorf("merged: %d arrived, segments %q, skew %q; want the crowd of 40, 1-2 of 2, a skew",
			d.Users.Arrived, paramValue(m, paramSegmentsMerged), paramValue(m, paramStartSkew))
	}
}

// repoFile reads the file name from the repository's root.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The Dockerfile builds with the Go of go.mod, the package that exists,
// into the path the pods call slotrush by, and runs as the pods' user.
func TestK8sDockerfile(t *testing.T) {
	t.Parallel()
	df, mod := repoFile(t, "Dockerfile"), repoFile(t, "go.mod")
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(mod)
	goArg := regexp.MustCompile(`(?m)^ARG GO_VERSION=(\S+)$`).FindStringSubmatch(df)
	if goLine == nil || goArg == nil || goArg[1] != goLine[1] {
		t.Errorf("Dockerfile's GO_VERSION %v, go.mod's go %v; want the same", goArg, goLine)
	}
	build := regexp.MustCompile(`CGO_ENABLED=1 go build [^\n]*(?:\\\n[^\n]*)*-o (\S+) (\./\S+)`).FindStringSubmatch(df)
	if build == nil {
		t.Fatalf("no CGO_ENABLED=1 go build ... -o OUT ./PKG in the Dockerfile")
	}
	if main, err := os.ReadFile(filepath.Join("..", "..", build[2], "main.go")); err != nil || !bytes.Contains(main, []byte("package main")) {
		t.Errorf("the build's package %s: %v; want a main package", build[2], err)
	}
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	final := stages[len(stages)-1][1]
	if len(stages) < 2 || !strings.HasPrefix(final, "gcr.io/distroless/") && final != "scratch" {
		t.Errorf("stages %q; want a build stage and a distroless or scratch final one", stages)
	}
	if !regexp.MustCompile(`(?m)^COPY --from=build ` + regexp.QuoteMeta(build[1]) + ` /usr/local/bin/slotrush$`).MatchString(df) {
		t.Errorf("the binary %s is not copied to /usr/local/bin/slotrush, on the PATH the pods call slotrush by", build[1])
	}
	if !strings.Contains(df, `ENTRYPOINT ["/usr/local/bin/slotrush"]`) {
		t.Errorf("ENTRYPOINT is not /usr/local/bin/slotrush")
	}
	if want := fmt.Sprintf("\nUSER %d:%d\n", k8sUID, k8sUID); !strings.Contains(df, want) {
		t.Errorf("Dockerfile lacks %q, the user the pods run as", strings.TrimSpace(want))
	}
}

// workflow is what TestSegmentsGitHubActionsExample reads of a workflow.
type workflow struct {
	Env  map[string]string `yaml:"env"`
	Jobs map[string]struct {
		Needs    any    `yaml:"needs"`
		If       string `yaml:"if"`
		Strategy struct {
			FailFast *bool `yaml:"fail-fast"`
			Matrix   struct {
				Segment []int `yaml:"segment"`
			} `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			Name string         `yaml:"name"`
			Uses string         `yaml:"uses"`
			Run  string         `yaml:"run"`
			With map[string]any `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// The GitHub Actions example: a matrix of SEGMENTS segment jobs after the
// build, each running its segment and uploading its part, and a merge job
// after them.
func TestSegmentsGitHubActionsExample(t *testing.T) {
	t.Parallel()
	var w workflow
	if err := goyaml.Unmarshal([]byte(repoFile(t, "examples/github-actions/distributed.yml")), &w); err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(w.Env["SEGMENTS"])
	if err != nil {
		t.Fatalf("env SEGMENTS %q: %v", w.Env["SEGMENTS"], err)
	}
	seg, ok := w.Jobs["segment"]
	if !ok || w.Jobs["build"].Steps == nil || w.Jobs["merge"].Steps == nil {
		t.Fatalf("jobs %v; want build, segment and merge", slices.Collect(maps.Keys(w.Jobs)))
	}
	if m := seg.Strategy.Matrix.Segment; len(m) != n || m[0] != 1 || m[n-1] != n {
		t.Errorf("matrix %v; want segments 1 to SEGMENTS (%d)", m, n)
	}
	if seg.Strategy.FailFast == nil || *seg.Strategy.FailFast {
		t.Errorf("fail-fast %v; want false, so one failed segment does not cancel the others", seg.Strategy.FailFast)
	}
	if fmt.Sprint(seg.Needs) != "build" || fmt.Sprint(w.Jobs["merge"].Needs) != "segment" {
		t.Errorf("segment needs %v, merge needs %v; want build and segment", seg.Needs, w.Jobs["merge"].Needs)
	}
	var runs, uploads string
	for _, s := range seg.Steps {
		runs += s.Run
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
			uploads += fmt.Sprint(s.With["name"])
		}
	}
	for _, want := range []string{"./slotrush run ", "--segment ${{ matrix.segment }}/${{ env.SEGMENTS }}", `--start-at "$START_AT"`, "--out part"} {
		if !strings.Contains(runs, want) {
			t.Errorf("the segment job's run lacks %q:\n%s", want, runs)
		}
	}
	if uploads != "part-${{ matrix.segment }}" {
		t.Errorf("the segment job uploads %q; want part-${{ matrix.segment }}", uploads)
	}
	var merge string
	for _, s := range w.Jobs["merge"].Steps {
		merge += s.Run
	}
	if !strings.Contains(merge, "./slotrush merge parts/part-*/result.json --out merged") {
		t.Errorf("the merge job runs %q; want slotrush merge of the downloaded parts", merge)
	}
}
