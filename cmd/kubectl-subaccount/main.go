/*
Copyright 2026 The subaccount-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command kubectl-subaccount is a kubectl plugin for the day-to-day
// operations on SubAccounts: `kubectl subaccount verify|resend|rotate|
// permissions|status`. It talks to the API server only; the operator does
// the platform work and the plugin waits for its answer in the status.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
	"github.com/subaccount-operator/subaccount-operator/internal/platform/catalog"
)

const usage = `kubectl subaccount: day-to-day operations on shop sub-accounts.

Usage:
  kubectl subaccount verify NAME CODE     hand a phone verification code to the operator and wait for the result
  kubectl subaccount verify shop/SHOP --contact PHONE|NAME CODE
                                          the same for one of a shop's notification contacts
  kubectl subaccount verify staff/STAFF [--shop SHOP] CODE
                                          the same for a Staff's account in one shop (Douyin texts a code per shop,
                                          to the phone the Staff gives for it); --shop may be left out while only
                                          one shop awaits a code, else the awaited ones are listed
  kubectl subaccount resend NAME          ask the platform for a new verification code
  kubectl subaccount resend shop/SHOP --contact PHONE|NAME
  kubectl subaccount resend staff/STAFF [--shop SHOP]
  kubectl subaccount rotate NAME          rotate the password now and print the new revision
  kubectl subaccount permissions NAME     show the effective permissions as a tree, with where each comes from, and,
                                          where the platform's API can read but not set them (Taobao through TOP),
                                          the roles and direct permissions the platform reports (read-only)
  kubectl subaccount activity NAME        show the account's last login, last activity, whether it is inactive,
                                          and its recent activity (logins, presence changes, operations)
  kubectl subaccount status [--shop SHOP] list the namespace's sub-accounts and the shops' seats, departments and contacts
  kubectl subaccount review [-o table|json|csv]
                                          access review: per person (Staff) and per SubAccount without one, the
                                          logins, high-risk permissions and their Roles, last activity, disabled,
                                          unverified or waiting accounts, and the accounts no SubAccount manages;
                                          reads only the cluster (no platform call)

Flags go after the subcommand: kubectl refuses its own flags before a
plugin's name, so 'kubectl --kubeconfig k subaccount status' fails; write
'kubectl subaccount status --kubeconfig k', or export KUBECONFIG=k.

Flags:
  --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  --context NAME      kubeconfig context
  -n, --namespace NS  namespace (default: the context's)
  --timeout DURATION  how long verify/resend/rotate wait for the operator (default 60s)
  --shop SHOP         status: only this shop; verify/resend of staff/STAFF: the shop
  -o, --output FORMAT review: table (default), json or csv
  --contact CONTACT   verify/resend of shop/SHOP: the notification contact, by phone or name
`

// pollInterval is how often the plugin looks at the object while waiting.
const pollInterval = 250 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed flags and positional arguments.
type options struct {
	kubeconfig, context, namespace, shop, contact, output string
	timeout                                               time.Duration
	args                                                  []string
}

// parseArgs parses flags anywhere on the command line (kubectl style).
func parseArgs(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("kubectl-subaccount", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "")
	fs.StringVar(&o.context, "context", "", "")
	fs.StringVar(&o.namespace, "namespace", "", "")
	fs.StringVar(&o.namespace, "n", "", "")
	fs.StringVar(&o.shop, "shop", "", "")
	fs.StringVar(&o.contact, "contact", "", "")
	fs.StringVar(&o.output, "output", "", "")
	fs.StringVar(&o.output, "o", "", "")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "")
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		o.args = append(o.args, rest[0])
		rest = rest[1:]
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	return o, nil
}

// run is the whole plugin: 0 on success, 1 with a message on stderr otherwise.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n\n%s", err, usage)
		return 1
	}
	if len(o.args) == 0 {
		fmt.Fprintf(stderr, "error: no command given\n\n%s", usage)
		return 1
	}
	cmd, params := o.args[0], o.args[1:]
	type command struct {
		args int // positional arguments after the command name
		run  func(*cli, context.Context, []string) error
	}
	commands := map[string]command{
		"verify":      {2, (*cli).verify},
		"resend":      {1, (*cli).resend},
		"rotate":      {1, (*cli).rotate},
		"permissions": {1, (*cli).permissions},
		"activity":    {1, (*cli).activity},
		"status":      {0, (*cli).status},
		"review":      {0, (*cli).review},
	}
	if cmd == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	c, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "error: unknown command %q\n\n%s", cmd, usage)
		return 1
	}
	if len(params) != c.args {
		fmt.Fprintf(stderr, "error: %s takes %d argument(s), got %d\n\n%s", cmd, c.args, len(params), usage)
		return 1
	}
	k, err := newCLI(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	if err := c.run(k, ctx, params); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
	return 0
}

// cli is one invocation: a client, its namespace and where to print.
type cli struct {
	c       client.Client
	ns      string
	shop    string
	contact string
	output  string
	timeout time.Duration
	out     io.Writer
	now     func() time.Time
}

func newCLI(o *options, out io.Writer) (*cli, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.context}
	overrides.Context.Namespace = o.namespace
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, fmt.Errorf("no kubeconfig found: set KUBECONFIG, or put --kubeconfig PATH after the subcommand (kubectl refuses it before a plugin's name): %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("resolving the namespace: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := shopv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("creating the client: %w", err)
	}
	return &cli{c: c, ns: ns, shop: o.shop, contact: o.contact, output: o.output, timeout: o.timeout, out: out, now: time.Now}, nil
}

// getSubAccount reads a SubAccount with a clear message when it is missing.
func (k *cli) getSubAccount(ctx context.Context, name string) (*shopv1alpha1.SubAccount, error) {
	sa := &shopv1alpha1.SubAccount{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: name}, sa); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("subaccount %q not found in namespace %q", name, k.ns)
		}
		return nil, fmt.Errorf("reading subaccount %q: %w", name, err)
	}
	return sa, nil
}

// waitFor polls until done says so, the timeout passes or ctx ends.
func (k *cli) waitFor(ctx context.Context, what string, done func(context.Context) (bool, error)) error {
	tctx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	// Each look uses ctx, not tctx: a request cut short by the deadline
	// would otherwise surface as an error of its own instead of a time-out.
	err := wait.PollUntilContextCancel(tctx, pollInterval, true, func(context.Context) (bool, error) { return done(ctx) })
	if err != nil && ctx.Err() == nil && tctx.Err() != nil {
		return fmt.Errorf("timed out after %s waiting for %s (is the operator running?)", k.timeout, what)
	}
	return err
}

// token is a fresh request token: the unix time, bumped past the values
// already used so that two requests in the same second still differ.
func (k *cli) token(used ...string) string {
	t := k.now().Unix()
	for _, u := range used {
		if n, err := strconv.ParseInt(u, 10, 64); err == nil && n >= t {
			t = n + 1
		}
	}
	return strconv.FormatInt(t, 10)
}

// annotate merge-patches one annotation onto a SubAccount or Shop.
func (k *cli) annotate(ctx context.Context, obj client.Object, key, value string) error {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	obj.SetAnnotations(annotations)
	if err := k.c.Patch(ctx, obj, patch); err != nil {
		return fmt.Errorf("annotating %s %q: %w", kindOf(obj), obj.GetName(), err)
	}
	return nil
}

func kindOf(obj client.Object) string {
	if _, ok := obj.(*shopv1alpha1.Shop); ok {
		return "shop"
	}
	return "subaccount"
}

// target splits "shop/NAME" (a shop's notification contact, named with
// --contact) from "NAME" or "subaccount/NAME".
func (k *cli) target(arg string) (shop string, name string, err error) {
	if s, ok := strings.CutPrefix(arg, "shop/"); ok {
		if k.contact == "" {
			return "", "", fmt.Errorf("shop/%s: name the notification contact with --contact PHONE or --contact NAME", s)
		}
		return s, "", nil
	}
	if k.contact != "" {
		return "", "", errors.New("--contact goes with shop/SHOP")
	}
	return "", strings.TrimPrefix(arg, "subaccount/"), nil
}

// staffAccount turns "staff/STAFF" (with --shop) into the name of the
// Staff's SubAccount in that shop, from the Staff's status; any other name
// is returned as it is. Without --shop, the one shop awaiting a code is
// taken; with several, they are listed with the masked phone each code
// went to.
func (k *cli) staffAccount(ctx context.Context, name string) (string, error) {
	staffName, ok := strings.CutPrefix(name, "staff/")
	if !ok {
		return name, nil
	}
	staff := &shopv1alpha1.Staff{}
	if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: staffName}, staff); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("staff %q not found in namespace %q", staffName, k.ns)
		}
		return "", fmt.Errorf("reading staff %q: %w", staffName, err)
	}
	if k.shop == "" {
		var awaited []shopv1alpha1.StaffShopStatus
		for _, row := range staff.Status.Shops {
			if row.SubAccount != "" && (row.Verification == shopv1alpha1.StaffVerificationPending ||
				row.Verification == shopv1alpha1.StaffVerificationExpired) {
				awaited = append(awaited, row)
			}
		}
		if len(awaited) == 1 {
			return awaited[0].SubAccount, nil
		}
		return "", fmt.Errorf("staff/%s: name the shop with --shop SHOP (each Douyin shop texts its own code)%s", staffName, awaitedCodes(awaited))
	}
	for _, row := range staff.Status.Shops {
		if row.Shop == k.shop && row.SubAccount != "" {
			return row.SubAccount, nil
		}
	}
	return "", fmt.Errorf("staff %s has no account in shop %q yet (see kubectl get staff %s -o yaml)", staffName, k.shop, staffName)
}

// awaitedCodes lists the shops whose code is awaited, with the masked
// phone it went to.
func awaitedCodes(rows []shopv1alpha1.StaffShopStatus) string {
	if len(rows) == 0 {
		return "; no shop awaits a code"
	}
	parts := make([]string, 0, len(rows))
	for _, row := range rows {
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", row.Shop, cmp.Or(row.VerificationPhone, "phone not known yet"), row.Verification))
	}
	return "; codes awaited in: " + strings.Join(parts, ", ")
}

// ---- verify ----

func (k *cli) verify(ctx context.Context, args []string) error {
	shop, name, err := k.target(args[0])
	if err != nil {
		return err
	}
	code := strings.TrimSpace(args[1])
	if code == "" {
		return errors.New("the code is empty")
	}
	if shop != "" {
		return k.verifyContact(ctx, shop, code)
	}
	if name, err = k.staffAccount(ctx, name); err != nil {
		return err
	}
	sa, err := k.getSubAccount(ctx, name)
	if err != nil {
		return err
	}
	if sa.Status.Verification != nil && sa.Status.Verification.Verified {
		fmt.Fprintf(k.out, "subaccount %s is already verified\n", name)
		return nil
	}
	cond, err := k.handOver(ctx, name+shopv1alpha1.VerificationSecretSuffix, code,
		meta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionVerified),
		"the Verified condition of "+name, func(ctx context.Context) (*metav1.Condition, error) {
			cur, err := k.getSubAccount(ctx, name)
			if err != nil {
				return nil, err
			}
			return meta.FindStatusCondition(cur.Status.Conditions, shopv1alpha1.ConditionVerified), nil
		})
	if err != nil {
		return err
	}
	fmt.Fprintln(k.out, cond.Message)
	if cond.Status != metav1.ConditionTrue {
		return fmt.Errorf("subaccount %s is not verified (%s)", name, cond.Reason)
	}
	return nil
}

// handOver puts code in Secret secretName for the operator, waits until
// the operator consumed it, then until the condition that reports the
// outcome (before: as it was) changes, and returns it.
func (k *cli) handOver(ctx context.Context, secretName, code string, before *metav1.Condition, what string,
	condition func(context.Context) (*metav1.Condition, error)) (*metav1.Condition, error) {
	var prev *metav1.Condition
	if before != nil {
		prev = before.DeepCopy()
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      secretName,
			Namespace: k.ns,
			Labels:    map[string]string{shopv1alpha1.LabelSecretRole: shopv1alpha1.SecretRoleVerification},
		},
		Type:       corev1.SecretTypeOpaque,
		StringData: map[string]string{shopv1alpha1.SecretKeyCode: code},
	}
	if err := k.c.Create(ctx, secret); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("Secret %s already exists: a code is waiting to be entered; wait for the operator or delete it", secretName)
		}
		return nil, fmt.Errorf("creating Secret %s: %w", secretName, err)
	}
	err := k.waitFor(ctx, "the operator to consume Secret "+secretName, func(ctx context.Context) (bool, error) {
		err := k.c.Get(ctx, client.ObjectKeyFromObject(secret), &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return nil, err
	}
	// The operator deletes the Secret first and writes the outcome with the
	// status afterwards: wait for the condition to change.
	var cond *metav1.Condition
	err = k.waitFor(ctx, what, func(ctx context.Context) (bool, error) {
		var err error
		cond, err = condition(ctx)
		return cond != nil && (prev == nil || conditionChanged(*prev, *cond)), err
	})
	return cond, err
}

func conditionChanged(a, b metav1.Condition) bool {
	return a.Status != b.Status || a.Reason != b.Reason || a.Message != b.Message ||
		!a.LastTransitionTime.Equal(&b.LastTransitionTime)
}

// ---- resend ----

func (k *cli) resend(ctx context.Context, args []string) error {
	shop, name, err := k.target(args[0])
	if err != nil {
		return err
	}
	if shop != "" {
		return k.resendContact(ctx, shop)
	}
	if name, err = k.staffAccount(ctx, name); err != nil {
		return err
	}
	sa, err := k.getSubAccount(ctx, name)
	if err != nil {
		return err
	}
	if sa.Status.Verification != nil && sa.Status.Verification.Verified {
		return fmt.Errorf("subaccount %s is already verified; no code to resend", name)
	}
	token := k.token(sa.Annotations[shopv1alpha1.AnnotationResendCode], sa.Status.LastHandledResend)
	if err := k.annotate(ctx, sa, shopv1alpha1.AnnotationResendCode, token); err != nil {
		return err
	}
	var phone string
	err = k.waitFor(ctx, "the operator to ask for a new code", func(ctx context.Context) (bool, error) {
		cur, err := k.getSubAccount(ctx, name)
		if err != nil || cur.Status.LastHandledResend != token {
			return false, err
		}
		if cur.Status.Verification != nil {
			phone = cur.Status.Verification.Phone
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if phone == "" {
		phone = "the account's phone"
	}
	fmt.Fprintf(k.out, "a new verification code was sent to %s; enter it with: kubectl subaccount verify %s CODE\n", phone, name)
	return nil
}

// ---- rotate ----

func (k *cli) rotate(ctx context.Context, args []string) error {
	name := args[0]
	sa, err := k.getSubAccount(ctx, name)
	if err != nil {
		return err
	}
	token := k.token(sa.Annotations[shopv1alpha1.AnnotationRotatePassword], sa.Status.LastHandledRotation)
	if err := k.annotate(ctx, sa, shopv1alpha1.AnnotationRotatePassword, token); err != nil {
		return err
	}
	var cur *shopv1alpha1.SubAccount
	err = k.waitFor(ctx, "the operator to rotate the password", func(ctx context.Context) (bool, error) {
		var err error
		cur, err = k.getSubAccount(ctx, name)
		return err == nil && cur.Status.LastHandledRotation == token, err
	})
	if err != nil {
		return err
	}
	secret := cur.Status.SecretName
	if secret == "" {
		secret = name + "-credentials"
	}
	fmt.Fprintf(k.out, "password rotated: revision %d (in Secret %s)\n", cur.Status.PasswordRevision, secret)
	return nil
}

// ---- permissions ----

// supplementary marks permissions granted by spec.extraPermissions.
const supplementary = "supplementary"

func (k *cli) permissions(ctx context.Context, args []string) error {
	sa, shop, err := k.subAccountAndShop(ctx, args[0])
	if err != nil {
		return err
	}
	cat, err := catalog.For(platform.Name(shop.Spec.Platform))
	if err != nil {
		return err
	}
	sources, notes, err := k.permissionSources(ctx, sa, cat)
	if err != nil {
		return err
	}
	effective := sa.Status.EffectivePermissions
	if len(effective) == 0 {
		fmt.Fprintf(k.out, "subaccount %s has no effective permissions yet (the operator has not resolved them)\n", sa.Name)
	} else {
		fmt.Fprintf(k.out, "%s (%s, shop %s): %d permissions\n", sa.Name, shop.Spec.Platform, shop.Name, len(effective))
		fmt.Fprint(k.out, renderTree(cat, effective, sources))
		fmt.Fprintln(k.out, provenanceSummary(effective, sources))
	}
	for _, n := range notes {
		fmt.Fprintf(k.out, "note: %s\n", n)
	}
	fmt.Fprint(k.out, renderObservedAccess(cat, sa))
	return nil
}

// renderObservedAccess is status.observedAccess for people: where the
// platform's API reads an account's roles and direct permissions but
// cannot set them (Taobao through TOP), the permissions above are what the
// spec grants, and these are what the platform says the account has. Empty
// where the status has none.
func renderObservedAccess(cat *catalog.Catalog, sa *shopv1alpha1.SubAccount) string {
	oa := sa.Status.ObservedAccess
	if oa == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nAs the platform reports them (read-only: its API cannot set them; a change is made in its back office):\n")
	fmt.Fprintf(&b, "  roles: %s\n", cmp.Or(strings.Join(observedRoleNames(oa.Roles), ", "), "none"))
	if len(oa.Permissions) == 0 {
		b.WriteString("  direct permissions: none\n")
	} else {
		fmt.Fprintf(&b, "  direct permissions: %d\n", len(oa.Permissions))
		// The high-risk ones are marked: the back office grants them
		// without the spec's allowHighRisk.
		marks := map[string][]string{}
		for _, code := range cat.HighRisk(oa.Permissions) {
			marks[code] = []string{"high-risk"}
		}
		for _, line := range strings.SplitAfter(renderTree(cat, oa.Permissions, marks), "\n") {
			if line != "" {
				b.WriteString("    " + line)
			}
		}
	}
	if oa.Truncated {
		b.WriteString("  (truncated: the platform reported more roles or permissions than the status holds)\n")
	}
	if c := meta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionDrifted); c != nil && c.Status == metav1.ConditionTrue {
		fmt.Fprintf(&b, "  Drifted: %s\n", c.Message)
	}
	return b.String()
}

// observedRoleNames names each role the platform reports, with its ID.
func observedRoleNames(roles []shopv1alpha1.ObservedRole) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = "ID " + r.ID
		if r.Name != "" {
			out[i] = r.Name + " (ID " + r.ID + ")"
		}
	}
	return out
}

// provenanceSummary counts the permissions only a supplementary grant
// gives: those are what the roles alone would not.
func provenanceSummary(effective []string, sources map[string][]string) string {
	var onlyExtra []string
	fromRoles := 0
	for _, code := range effective {
		src := sources[code]
		switch {
		case slices.ContainsFunc(src, func(s string) bool { return strings.HasPrefix(s, "role: ") }):
			fromRoles++
		case slices.Contains(src, supplementary):
			onlyExtra = append(onlyExtra, code)
		}
	}
	if len(onlyExtra) == 0 {
		return fmt.Sprintf("%d from roles; no supplementary permission adds anything", fromRoles)
	}
	return fmt.Sprintf("%d from roles; %d only from supplementary permissions: %s", fromRoles, len(onlyExtra), strings.Join(onlyExtra, ", "))
}

// permissionSources maps each code to where it comes from: the operator's
// status.permissionSources when it has written them (the expansion it
// applies), else worked out here from the Roles' status and the catalog.
func (k *cli) permissionSources(ctx context.Context, sa *shopv1alpha1.SubAccount, cat *catalog.Catalog) (map[string][]string, []string, error) {
	sources := map[string][]string{}
	if ps := sa.Status.PermissionSources; ps != nil {
		for _, r := range ps.Roles {
			for _, code := range r.Permissions {
				sources[code] = append(sources[code], "role: "+r.Name)
			}
		}
		for _, code := range ps.Supplementary {
			sources[code] = append(sources[code], supplementary)
		}
		return sources, nil, nil
	}
	var notes []string
	for _, ref := range sa.Spec.Roles {
		role := &shopv1alpha1.Role{}
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: k.ns, Name: ref.Name}, role); err != nil {
			if apierrors.IsNotFound(err) {
				notes = append(notes, fmt.Sprintf("role %s not found", ref.Name))
				continue
			}
			return nil, nil, fmt.Errorf("reading role %q: %w", ref.Name, err)
		}
		for _, code := range role.Status.EffectivePermissions {
			sources[code] = append(sources[code], "role: "+ref.Name)
		}
	}
	if len(sa.Spec.ExtraPermissions) > 0 {
		extra, err := cat.Expand(sa.Spec.ExtraPermissions)
		if err != nil {
			notes = append(notes, "extraPermissions: "+err.Error())
		}
		for _, code := range extra {
			sources[code] = append(sources[code], supplementary)
		}
	}
	return sources, notes, nil
}

// renderTree prints codes as a tree in catalog order: each code under its
// nearest ancestor that is also listed, two spaces per level, with its name
// and its sources. Codes the catalog does not know come last, at the top.
func renderTree(cat *catalog.Catalog, codes []string, sources map[string][]string) string {
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	// parentOf is the nearest listed ancestor, or "".
	parentOf := func(code string) string {
		p, _ := cat.Lookup(code)
		for a := p.Parent; a != ""; {
			if set[a] {
				return a
			}
			ap, ok := cat.Lookup(a)
			if !ok {
				return ""
			}
			a = ap.Parent
		}
		return ""
	}
	children := map[string][]string{}
	var roots []string
	for _, p := range cat.Permissions {
		if !set[p.Code] {
			continue
		}
		if parent := parentOf(p.Code); parent != "" {
			children[parent] = append(children[parent], p.Code)
		} else {
			roots = append(roots, p.Code)
		}
	}
	var unknown []string
	for c := range set {
		if _, ok := cat.Lookup(c); !ok {
			unknown = append(unknown, c)
		}
	}
	sort.Strings(unknown)

	var b strings.Builder
	line := func(depth int, code, name string) {
		fmt.Fprintf(&b, "%s%s  %s", strings.Repeat("  ", depth), code, name)
		if src := sources[code]; len(src) > 0 {
			fmt.Fprintf(&b, "  [%s]", strings.Join(dedupe(src), ", "))
		}
		b.WriteByte('\n')
	}
	var walk func(depth int, code string)
	walk = func(depth int, code string) {
		p, _ := cat.Lookup(code)
		line(depth, code, p.Name)
		for _, c := range children[code] {
			walk(depth+1, c)
		}
	}
	for _, r := range roots {
		walk(0, r)
	}
	for _, c := range unknown {
		line(0, c, "(not in the "+string(cat.Platform)+" catalog)")
	}
	return b.String()
}

// dedupe keeps the first of each value, roles before "supplementary".
func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i] != supplementary && out[j] == supplementary })
	return out
}

// ---- status ----

func (k *cli) status(ctx context.Context, _ []string) error {
	var sas shopv1alpha1.SubAccountList
	if err := k.c.List(ctx, &sas, client.InNamespace(k.ns)); err != nil {
		return fmt.Errorf("listing subaccounts: %w", err)
	}
	var shops shopv1alpha1.ShopList
	if err := k.c.List(ctx, &shops, client.InNamespace(k.ns)); err != nil {
		return fmt.Errorf("listing shops: %w", err)
	}
	if k.shop != "" && !slices.ContainsFunc(shops.Items, func(s shopv1alpha1.Shop) bool { return s.Name == k.shop }) {
		return fmt.Errorf("shop %q not found in namespace %q", k.shop, k.ns)
	}
	fmt.Fprint(k.out, renderStatus(sas.Items, shops.Items, k.shop))
	return nil
}

// renderStatus is the sub-account table followed by the seats per shop.
func renderStatus(sas []shopv1alpha1.SubAccount, shops []shopv1alpha1.Shop, only string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSHOP\tLOGIN\tROLES\tREADY\tREASON\tPRESENCE\tVERIFIED\tDISABLED")
	sort.Slice(sas, func(i, j int) bool {
		if sas[i].Spec.ShopRef.Name != sas[j].Spec.ShopRef.Name {
			return sas[i].Spec.ShopRef.Name < sas[j].Spec.ShopRef.Name
		}
		return sas[i].Name < sas[j].Name
	})
	n := 0
	for _, sa := range sas {
		if only != "" && sa.Spec.ShopRef.Name != only {
			continue
		}
		n++
		ready, reason := "Unknown", "-"
		if c := meta.FindStatusCondition(sa.Status.Conditions, shopv1alpha1.ConditionReady); c != nil {
			ready, reason = string(c.Status), orDash(c.Reason)
		}
		presence := "-"
		if sa.Status.Presence != nil {
			presence = orDash(string(sa.Status.Presence.Current))
		}
		verified := "-"
		if v := sa.Status.Verification; v != nil {
			verified = strconv.FormatBool(v.Verified)
		}
		// The back office's list shows each account's roles (Pinduoduo's
		// page): so does this one.
		roles := make([]string, len(sa.Spec.Roles))
		for i, r := range sa.Spec.Roles {
			roles[i] = r.Name
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%t\n", sa.Name, sa.Spec.ShopRef.Name, orDash(sa.Status.LoginName),
			orDash(strings.Join(roles, ",")), ready, reason, presence, verified, sa.Spec.Disabled)
	}
	_ = w.Flush()
	if n == 0 {
		b.Reset()
		b.WriteString("No subaccounts found.\n")
	}
	b.WriteString("\n")
	w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SHOP\tPLATFORM\tSEATS USED/TOTAL\tMANAGED\tWAITING\tDEPARTMENTS\tCONTACTS VERIFIED")
	sort.Slice(shops, func(i, j int) bool { return shops[i].Name < shops[j].Name })
	for _, s := range shops {
		if only != "" && s.Name != only {
			continue
		}
		seats, managed, waiting := "-", "-", "-"
		if st := s.Status.Seats; st != nil {
			seats, managed = fmt.Sprintf("%d/%d", st.Used, st.Total), strconv.Itoa(int(st.Managed))
			waiting = strconv.Itoa(int(st.Waiting))
		}
		departments, contacts := "-", "-"
		if n := len(s.Status.Departments); n > 0 {
			departments = strconv.Itoa(n)
		}
		if n := len(s.Status.NotificationContacts); n > 0 {
			verified := 0
			for _, c := range s.Status.NotificationContacts {
				if c.Verification.Verified {
					verified++
				}
			}
			contacts = fmt.Sprintf("%d/%d", verified, n)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Spec.Platform, seats, managed, waiting, departments, contacts)
	}
	_ = w.Flush()
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
