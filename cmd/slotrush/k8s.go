package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/slotrush/slotrush/scenarios"
)

// This file is `slotrush k8s`, which prints the Kubernetes manifests of a
// run split into segments, and `slotrush k8s segment`, which the pods of
// those manifests run.

func init() { addCommand(newK8sCmd) }

const (
	// k8sPartsMount is where the pods mount the claim holding the parts.
	k8sPartsMount = "/parts"
	// k8sScenarioDir is where the pods mount a scenario file's ConfigMap.
	k8sScenarioDir = "/etc/slotrush/scenario"
	// k8sScenarioKey is the scenario file's key in its ConfigMap.
	k8sScenarioKey = "scenario.yaml"
	// k8sMaxScenario bounds a scenario file shipped in a ConfigMap (whose
	// limit is 1 MiB with its metadata).
	k8sMaxScenario = 900 << 10
	// k8sUID is the user and group the pods run as: distroless's
	// "nonroot", the Dockerfile's USER.
	k8sUID = 65532
	// k8sIndexEnv is the variable Kubernetes sets in the pods of an
	// Indexed Job to the pod's completion index, from 0.
	k8sIndexEnv = "JOB_COMPLETION_INDEX"
	// k8sMaxName keeps NAME-merge and the pods' hostnames NAME-INDEX
	// within the 63 characters of a DNS label.
	k8sMaxName = 57
	// k8sMaxSegments is the most pods of an Indexed Job run at once
	// (its parallelism's limit).
	k8sMaxSegments = 100_000
	// k8sPortRange is the pods' range of local ports for connections.
	k8sPortRange = "1024 65535"
)

// k8sOpts are the flags of k8s.
type k8sOpts struct {
	scenario     string
	segments     int
	targets      []string
	image        string
	startIn      time.Duration
	startAt      string
	namespace    string
	claim        string
	name         string
	cpu          string
	memory       string
	storage      string
	storageClass string
	allowPartial bool

	now func() time.Time // the clock of --start-in; nil is time.Now
}

func newK8sCmd() *cobra.Command {
	o := &k8sOpts{}
	cmd := &cobra.Command{
		Use:   "k8s --scenario NAME|FILE --segments N --target NAME=URL [--image IMAGE] [--start-in 2m | --start-at TIME]",
		Short: "Print the Kubernetes manifests of a run split into segments over pods",
		Long: `k8s prints (multi-document YAML, for kubectl apply -f) a run of the scenario's
crowd split into N segments, each replayed by one pod against the target:

  * a PersistentVolumeClaim (ReadWriteMany) for the parts, unless --out-volume
    names an existing claim;
  * with a scenario FILE, a ConfigMap holding it (a preset is in the image);
  * an Indexed Job of N pods, all started together at --start-at (default:
    now + --start-in). Pod i runs slotrush k8s segment, which runs
    run --segment i+1/N --start-at TIME --out /parts/NAME/part-i. A failed
    pod is not retried (backoffLimitPerIndex 0): a retry would replay its
    people against a target that already served them, and its part would
    say nothing true. Exit 2 (bad input) fails the whole Job at once;
  * a merge Job, created suspended, that runs slotrush merge over the parts
    into /parts/NAME/merged once resumed (Kubernetes has no dependencies
    between Jobs): the header says the kubectl commands.

The target must be reachable from the pods, and one target only: a segment
waits for --start-at before its first target only. The image must hold
slotrush on its PATH (the repository's Dockerfile). See docs/DISTRIBUTED.md
for sizing, clocks and what breaks.

Exit codes: 0 printed, 2 bad input (a bad flag, scenario or target).`,
		Example: `  slotrush k8s --scenario demo --segments 4 --target staging=http://booking.staging.svc:8080 \
    --image registry.example/slotrush:v1.2.0 > run.yaml
  kubectl apply -f run.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := o.plan()
			if err != nil {
				return err
			}
			return p.write(cmd.OutOrStdout())
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "", "preset name or scenario file (required)")
	f.IntVar(&o.segments, "segments", 0, "number of segments, one pod each (required)")
	f.StringArrayVar(&o.targets, "target", nil, "NAME=URL of the server the pods drive, reachable from them (required, once)")
	f.StringVar(&o.image, "image", "slotrush:"+version, "container image with slotrush on its PATH (see the Dockerfile)")
	f.DurationVar(&o.startIn, "start-in", 2*time.Minute, "start the segments this long after now, time enough for the pods to be scheduled")
	f.StringVar(&o.startAt, "start-at", "", "RFC 3339 time to start the segments at, instead of --start-in")
	f.StringVar(&o.namespace, "namespace", "", "namespace of the objects (default: kubectl's)")
	f.StringVar(&o.claim, "out-volume", "", "existing ReadWriteMany PersistentVolumeClaim for the parts (default: print a new one, NAME-parts)")
	f.StringVar(&o.name, "name", "", "name of the Job and prefix of the other objects (default: slotrush-SCENARIO)")
	f.StringVar(&o.cpu, "cpu", "2", "CPU of each segment's pod (request and limit)")
	f.StringVar(&o.memory, "memory", "2Gi", "memory of each pod (request and limit)")
	f.StringVar(&o.storage, "storage", "1Gi", "size of the printed claim")
	f.StringVar(&o.storageClass, "storage-class", "", "storage class of the printed claim, one that offers ReadWriteMany (default: the cluster's)")
	f.BoolVar(&o.allowPartial, "allow-partial", false, "have the merge Job merge the parts there are when segments failed (merge --allow-partial)")
	cmd.AddCommand(newK8sSegmentCmd())
	return cmd
}

// k8sPlan is what k8s's flags resolve to: everything the manifests need.
type k8sPlan struct {
	o        *k8sOpts
	sc       *scenarios.Scenario
	scenario string // --scenario as the pods give it
	file     []byte // a scenario file's content, shipped in a ConfigMap; nil for a preset
	target   target
	startAt  time.Time
	name     string
	claim    string
	newClaim bool // print the claim
	cpu      resource.Quantity
	memory   resource.Quantity
	storage  resource.Quantity
}

// plan checks the flags and loads what they name. Every error is a bad
// input.
func (o *k8sOpts) plan() (*k8sPlan, error) {
	p := &k8sPlan{o: o}
	if err := p.loadScenario(o.scenario); err != nil {
		return nil, badRunInput(err)
	}
	if err := p.checkFlags(); err != nil {
		return nil, badRunInput(err)
	}
	return p, nil
}

// loadScenario loads --scenario: a preset is named in the pods as it is, a
// file is shipped to them in a ConfigMap.
func (p *k8sPlan) loadScenario(ref string) error {
	if ref == "" {
		return errors.New("k8s: --scenario is required: a preset name or a scenario file")
	}
	sc, err := scenarios.Load(ref)
	if err != nil {
		return err
	}
	p.sc, p.scenario = sc, ref
	if _, err := scenarios.Preset(ref); err == nil {
		return nil
	}
	data, err := os.ReadFile(ref)
	switch {
	case err != nil:
		return fmt.Errorf("k8s: --scenario %s: %w", ref, err)
	case len(data) > k8sMaxScenario:
		return fmt.Errorf("k8s: --scenario %s: %d bytes, more than a ConfigMap holds (%d)", ref, len(data), k8sMaxScenario)
	}
	p.file, p.scenario = data, path.Join(k8sScenarioDir, k8sScenarioKey)
	return nil
}

// checkFlags checks every flag but --scenario and fills p.
func (p *k8sPlan) checkFlags() error {
	o := p.o
	switch {
	case o.segments < 1 || o.segments > k8sMaxSegments:
		return fmt.Errorf("k8s: --segments %d: want 1 to %d, one pod each", o.segments, k8sMaxSegments)
	case len(o.targets) == 0:
		return errors.New("k8s: --target NAME=URL is required: the pods drive a server over the network (the in-process reference server of one pod cannot be split)")
	case len(o.targets) > 1:
		return errors.New("k8s: give one --target: a segment waits for --start-at before its first target only, so the segments of another would not start together (print one run per target, with --name)")
	case o.image == "":
		return errors.New("k8s: --image is empty: give the image holding slotrush")
	}
	ts, err := parseTargets(o.targets)
	if err != nil {
		return err
	}
	p.target = ts[0]
	if p.startAt, err = o.start(); err != nil {
		return err
	}
	if err := p.checkNames(); err != nil {
		return err
	}
	for _, q := range []struct {
		flag, value string
		into        *resource.Quantity
	}{{"--cpu", o.cpu, &p.cpu}, {"--memory", o.memory, &p.memory}, {"--storage", o.storage, &p.storage}} {
		n, err := resource.ParseQuantity(q.value)
		if err != nil || n.Sign() <= 0 {
			return fmt.Errorf("k8s: %s %q: want a positive Kubernetes quantity such as 2, 500m or 2Gi", q.flag, q.value)
		}
		*q.into = n
	}
	return nil
}

// start returns when the segments start: --start-at, else now +
// --start-in, at a whole second, in UTC.
func (o *k8sOpts) start() (time.Time, error) {
	if o.startAt != "" {
		t, err := time.Parse(time.RFC3339, o.startAt)
		if err != nil {
			return time.Time{}, fmt.Errorf("k8s: --start-at %q: want an RFC 3339 time such as 2021-05-26T12:15:00+08:00", o.startAt)
		}
		return t.UTC(), nil
	}
	if o.startIn <= 0 {
		return time.Time{}, fmt.Errorf("k8s: --start-in %v: want a positive duration, time enough for every pod to be scheduled and started", o.startIn)
	}
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	return now().Add(o.startIn).UTC().Truncate(time.Second), nil
}

// dnsUnsafe is what a scenario name may hold that a DNS label may not.
var dnsUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// checkNames checks --name, --namespace and --out-volume, and fills
// p.name and p.claim.
func (p *k8sPlan) checkNames() error {
	o := p.o
	p.name = o.name
	if p.name == "" {
		p.name = strings.Trim(dnsUnsafe.ReplaceAllString("slotrush-"+strings.ToLower(p.sc.Name), "-"), "-")
		p.name = strings.TrimRight(p.name[:min(len(p.name), k8sMaxName)], "-")
	}
	if errs := validation.IsDNS1123Label(p.name); len(errs) > 0 || len(p.name) > k8sMaxName {
		return fmt.Errorf("k8s: --name %q: want at most %d lower-case letters, digits and '-', starting and ending with a letter or digit", p.name, k8sMaxName)
	}
	if o.namespace != "" {
		if errs := validation.IsDNS1123Label(o.namespace); len(errs) > 0 {
			return fmt.Errorf("k8s: --namespace %q: %s", o.namespace, strings.Join(errs, "; "))
		}
	}
	p.claim, p.newClaim = o.claim, o.claim == ""
	if p.newClaim {
		p.claim = p.name + "-parts"
	} else if errs := validation.IsDNS1123Subdomain(p.claim); len(errs) > 0 {
		return fmt.Errorf("k8s: --out-volume %q: %s", p.claim, strings.Join(errs, "; "))
	}
	return nil
}

// partsDir is the folder of this run's parts on the claim.
func (p *k8sPlan) partsDir() string { return path.Join(k8sPartsMount, p.name) }

// write prints the header and the manifests, as YAML documents.
func (p *k8sPlan) write(w io.Writer) error {
	objs := []any{}
	if p.newClaim {
		objs = append(objs, p.claimObject())
	}
	if p.file != nil {
		objs = append(objs, p.configMap())
	}
	objs = append(objs, p.segmentJob(), p.mergeJob())
	var buf bytes.Buffer
	buf.WriteString(p.header())
	for i, obj := range objs {
		data, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("k8s: %w", err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		if _, ok := obj.(*batchv1.Job); ok && i == len(objs)-1 {
			fmt.Fprintf(&buf, "# The merge: created suspended, resumed once the segments ended:\n#   %s\n",
				p.kubectl("patch job/"+p.name+"-merge --type=merge -p '{\"spec\":{\"suspend\":false}}'"))
		}
		// The API types always carry a status; a manifest has none.
		buf.Write(bytes.TrimSuffix(data, []byte("status: {}\n")))
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// kubectl spells a kubectl command in p's namespace.
func (p *k8sPlan) kubectl(args string) string {
	if p.o.namespace != "" {
		return "kubectl -n " + p.o.namespace + " " + args
	}
	return "kubectl " + args
}

// header is the comment at the top of the manifests: what they run and the
// kubectl commands that run it.
func (p *k8sPlan) header() string {
	done := fmt.Sprintf(`until %s | grep -qE 'Complete|Failed'; do sleep 10; done`,
		p.kubectl(`get job/`+p.name+` -o jsonpath='{.status.conditions[?(@.status=="True")].type}'`))
	lines := []string{
		fmt.Sprintf("slotrush k8s: scenario %s (%d people over %s), %d segment(s) against %s=%s,",
			p.sc.Name, p.sc.Crowd.Size, p.sc.Duration, p.o.segments, p.target.name, p.target.url),
		fmt.Sprintf("starting together at %s. Apply before then: a pod that starts later", p.startAt.Format(time.RFC3339)),
		"begins late, and slotrush merge says by how much.",
		"",
		"  kubectl apply -f THIS-FILE.yaml",
		"  " + done + "   # Failed: a segment failed (docs/DISTRIBUTED.md)",
		"  " + p.kubectl("patch job/"+p.name+"-merge --type=merge -p '{\"spec\":{\"suspend\":false}}'"),
		"  " + p.kubectl(fmt.Sprintf("wait --for=condition=complete --timeout=%s job/%s-merge", minutes(30*time.Minute), p.name)),
		"  " + p.kubectl("logs job/"+p.name+"-merge"),
		"",
		fmt.Sprintf("Parts: claim %s, %s/part-INDEX; merged result and report: %s/merged.", p.claim, p.partsDir(), p.partsDir()),
		fmt.Sprintf("The segments run %s from the start, then audit their 201s (run --audit-rate).", p.sc.Duration),
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	return b.String()
}

// minutes writes d rounded to the minute as kubectl reads it: "2h32m".
func minutes(d time.Duration) string {
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

// meta returns the metadata of p's object named name, a part of component.
func (p *k8sPlan) meta(name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: p.o.namespace, Labels: p.labels(component)}
}

// labels are the labels of p's objects and pods of component.
func (p *k8sPlan) labels(component string) map[string]string {
	return map[string]string{
		"app.kubernetes.io/name":      "slotrush",
		"app.kubernetes.io/instance":  p.name,
		"app.kubernetes.io/component": component,
	}
}

// claimObject is the ReadWriteMany claim that the segments write their
// parts to and the merge reads them from.
func (p *k8sPlan) claimObject() *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: p.meta(p.claim, "parts"),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: p.storage}},
		},
	}
	if p.o.storageClass != "" {
		c.Spec.StorageClassName = &p.o.storageClass
	}
	return c
}

// configMap holds the scenario file the pods load.
func (p *k8sPlan) configMap() *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: p.meta(p.name+"-scenario", "scenario"),
		Data:       map[string]string{k8sScenarioKey: string(p.file)},
	}
}

// segmentJob is the Indexed Job whose pod i replays segment i+1 of N.
func (p *k8sPlan) segmentJob() *batchv1.Job {
	n := int32(min(p.o.segments, k8sMaxSegments))
	args := []string{"slotrush", "k8s", "segment", "--of", strconv.Itoa(p.o.segments), "--parts", p.partsDir(), "--",
		"--scenario", p.scenario, "--target", p.target.name + "=" + p.target.url,
		"--start-at", p.startAt.Format(time.RFC3339), "--quiet", "--no-report"}
	c := p.container("segment", args, p.cpu)
	spec := p.podSpec(c)
	// Spread the generators over nodes, so that they do not share a
	// node's cores and network.
	spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector: &metav1.LabelSelector{MatchLabels: p.labels("segment")},
	}}
	indexed := batchv1.IndexedCompletion
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: p.meta(p.name, "segment"),
		Spec: batchv1.JobSpec{
			CompletionMode: &indexed,
			Completions:    &n,
			Parallelism:    &n,
			// A failed segment is not retried: it would replay its people
			// against a target that already served them (people booked
			// twice, places taken twice), and its part would describe
			// neither run. Its index fails; the others run on.
			BackoffLimitPerIndex: ptr(int32(0)),
			PodFailurePolicy: &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				// Bad input (exit 2) is the same in every pod: stop them all.
				Action:      batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: &c.Name, Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{2}},
			}}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: p.labels("segment")}, Spec: spec},
		},
	}
}

// mergeJob merges the parts once resumed; it is created suspended.
func (p *k8sPlan) mergeJob() *batchv1.Job {
	args := []string{"slotrush", "merge", path.Join(p.partsDir(), "part-*", "result.json"), "--out", path.Join(p.partsDir(), "merged")}
	if p.o.allowPartial {
		args = append(args, "--allow-partial")
	}
	c := p.container("merge", args, resource.MustParse("1"))
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: p.meta(p.name+"-merge", "merge"),
		Spec: batchv1.JobSpec{
			Suspend: ptr(true),
			// A merge that failed fails again: its inputs do not change.
			BackoffLimit: ptr(int32(0)),
			Template:     corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: p.labels("merge")}, Spec: p.podSpec(c)},
		},
	}
}

// container is a slotrush container named name running args with cpu
// and p's memory, requests equal to limits (Guaranteed QoS: the last to be
// evicted, and exclusive cores under the static CPU manager). A CPU limit
// throttles a generator that overruns it, which the latencies would show
// (they are measured from each request's scheduled start): size --cpu with
// room (docs/DISTRIBUTED.md).
func (p *k8sPlan) container(name string, args []string, cpu resource.Quantity) corev1.Container {
	res := corev1.ResourceList{corev1.ResourceCPU: cpu, corev1.ResourceMemory: p.memory}
	mounts := []corev1.VolumeMount{{Name: "parts", MountPath: k8sPartsMount}}
	if p.file != nil {
		mounts = append(mounts, corev1.VolumeMount{Name: "scenario", MountPath: k8sScenarioDir, ReadOnly: true})
	}
	return corev1.Container{
		Name:            name,
		Image:           p.o.image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         args,
		// The Go runtime reads the CPU limit itself; its soft memory limit
		// is left 10% below the container's.
		Env:          []corev1.EnvVar{{Name: "GOMEMLIMIT", Value: strconv.FormatInt(p.memory.Value()/10*9, 10)}},
		Resources:    corev1.ResourceRequirements{Requests: res, Limits: res},
		VolumeMounts: mounts,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem:   ptr(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
}

// podSpec is the pod of container c: never restarted, non-root, with
// every local port for connections, and the parts' claim (and the
// scenario's ConfigMap) mounted.
func (p *k8sPlan) podSpec(c corev1.Container) corev1.PodSpec {
	vols := []corev1.Volume{{Name: "parts", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: p.claim}}}}
	if p.file != nil {
		vols = append(vols, corev1.Volume{Name: "scenario", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: p.name + "-scenario"}}}})
	}
	return corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		AutomountServiceAccountToken: ptr(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr(true), RunAsUser: ptr(int64(k8sUID)), RunAsGroup: ptr(int64(k8sUID)), FSGroup: ptr(int64(k8sUID)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			// A safe sysctl: every port for the requests in flight to one
			// target address (28,232 by default), which a stalled target
			// holds for a whole request timeout.
			Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_local_port_range", Value: k8sPortRange}},
		},
		Containers: []corev1.Container{c},
		Volumes:    vols,
	}
}

// ptr returns a pointer to v, for the optional fields of the API types.
func ptr[T any](v T) *T { return &v }

// k8sSegmentOpts are the flags of k8s segment.
type k8sSegmentOpts struct {
	of     int
	parts  string
	getenv func(string) string // os.Getenv unless a test sets it
}

func newK8sSegmentCmd() *cobra.Command {
	o := &k8sSegmentOpts{getenv: os.Getenv}
	cmd := &cobra.Command{
		Use:   "segment --of N --parts DIR -- RUN-FLAGS...",
		Short: "Run this pod's segment of the Indexed Job slotrush k8s prints",
		Long: `segment runs inside a pod of the Indexed Job that slotrush k8s prints. It reads
the pod's completion index I (from 0) from $JOB_COMPLETION_INDEX and runs

  slotrush run RUN-FLAGS... --segment I+1/N --out DIR/part-I

so that the image needs no shell to add 1. Its exit code is run's.

Exit codes: those of run; 2 as well when $JOB_COMPLETION_INDEX is not an
index from 0 to N-1, or RUN-FLAGS hold --segment or --out.`,
		Example: `  JOB_COMPLETION_INDEX=0 slotrush k8s segment --of 4 --parts /parts/demo -- \
    --scenario demo --target a=http://booking:8080 --start-at 2026-11-30T12:00:00Z -q --no-report`,
		RunE: func(cmd *cobra.Command, args []string) error {
			run, err := segmentRunArgs(o.getenv(k8sIndexEnv), o.of, o.parts, args)
			if err != nil {
				return badRunInput(fmt.Errorf("k8s segment: %w", err))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "slotrush k8s segment: %s=%s: slotrush %s\n", k8sIndexEnv, o.getenv(k8sIndexEnv), strings.Join(run, " "))
			root := newRootCmd()
			root.SetArgs(run)
			root.SetOut(cmd.OutOrStdout())
			root.SetErr(cmd.ErrOrStderr())
			return root.ExecuteContext(cmd.Context())
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	cmd.Flags().IntVar(&o.of, "of", 0, "number of segments N (the Job's completions)")
	cmd.Flags().StringVar(&o.parts, "parts", "", "folder of the parts: the run writes DIR/part-I")
	return cmd
}

// segmentRunArgs returns the arguments of the run that the pod of
// completion index index (a decimal from 0, as Kubernetes sets it) runs:
// run runFlags... --segment index+1/of --out parts/part-index. It returns
// an error for a bad index, of or parts, and for runFlags that set the
// segment or the output themselves.
func segmentRunArgs(index string, of int, parts string, runFlags []string) ([]string, error) {
	i, err := strconv.Atoi(index)
	switch {
	case of < 1:
		return nil, fmt.Errorf("--of %d: want the number of segments, 1 or more", of)
	case parts == "":
		return nil, errors.New("--parts DIR is required")
	case err != nil || i < 0 || i >= of:
		return nil, fmt.Errorf("$%s %q: want a completion index from 0 to %d (run me in a pod of an Indexed Job)", k8sIndexEnv, index, of-1)
	}
	for _, f := range runFlags {
		name, _, _ := strings.Cut(f, "=")
		if name == "--segment" || name == "--out" || name == "-o" {
			return nil, fmt.Errorf("run flag %s: segment sets --segment and --out itself", name)
		}
	}
	out := append([]string{"run"}, runFlags...)
	return append(out, "--segment", fmt.Sprintf("%d/%d", i+1, of), "--out", path.Join(parts, fmt.Sprintf("part-%d", i))), nil
}
