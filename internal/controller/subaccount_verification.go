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

package controller

// A SubAccount's phone verification (Douyin).

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	shopv1alpha1 "github.com/subaccount-operator/subaccount-operator/api/v1alpha1"
	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

// ensureVerified drives the platform's phone verification (Douyin) with
// the rules every SMS code follows (handleCode): a code handed over in the
// Secret "<name>-verification" is entered once and the Secret deleted; the
// resend-code annotation asks for a new code.
func (r *SubAccountReconciler) ensureVerified(ctx context.Context, s *subAccountScope) error {
	sa, pc := s.sa, s.pc
	if sa.Status.Verification == nil {
		removeCondition(sa, shopv1alpha1.ConditionVerified)
		return nil
	}
	id := sa.Status.AccountID
	accountVerification := func(acct platform.Account, err error) (*platform.Verification, error) {
		return acct.Verification, err
	}
	res := handleCode(ctx, codeDeps{client: r.Client, connector: r.Connector, recorder: r.Recorder, now: r.now()}, smsCode{
		owner: sa, what: "sub-account " + sa.Status.LoginName, authorised: "is authorised",
		secretName:  sa.Name + shopv1alpha1.VerificationSecretSuffix,
		resendToken: sa.Annotations[shopv1alpha1.AnnotationResendCode], resendHandled: sa.Status.LastHandledResend,
		resendHow: fmt.Sprintf("kubectl annotate subaccount %s %s=$(date +%%s) --overwrite", sa.Name, shopv1alpha1.AnnotationResendCode),
		status:    sa.Status.Verification,
		verify: func(ctx context.Context, code string) (*platform.Verification, error) {
			return accountVerification(pc.VerifyAccount(ctx, id, code))
		},
		resend: func(ctx context.Context) (*platform.Verification, error) {
			return accountVerification(pc.ResendVerification(ctx, id))
		},
		current: func(ctx context.Context) (*platform.Verification, error) {
			return accountVerification(pc.GetAccount(ctx, id))
		},
	})
	sa.Status.Verification, sa.Status.LastHandledResend = res.status, res.resendHandled
	switch {
	case res.failed != nil:
		return res.failed
	case res.verified:
		setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionTrue, shopv1alpha1.ReasonSucceeded, "phone verified; the account is authorised")
		return nil
	}
	setCondition(sa, shopv1alpha1.ConditionVerified, metav1.ConditionFalse, res.reason, res.message)
	return res.err
}
