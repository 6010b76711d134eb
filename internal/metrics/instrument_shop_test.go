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

package metrics

import (
	"context"

	"github.com/subaccount-operator/subaccount-operator/internal/platform"
)

func (s *stubClient) ListDepartments(context.Context) ([]platform.Department, error) {
	return nil, s.do()
}
func (s *stubClient) CreateDepartment(context.Context, platform.DepartmentSpec, string) (platform.Department, error) {
	return platform.Department{}, s.do()
}
func (s *stubClient) DeleteDepartment(context.Context, string) error { return s.do() }
func (s *stubClient) ListContacts(context.Context) ([]platform.Contact, error) {
	return nil, s.do()
}
func (s *stubClient) AddContact(context.Context, platform.ContactSpec) (platform.Contact, error) {
	return platform.Contact{}, s.do()
}
func (s *stubClient) UpdateContact(context.Context, string, platform.ContactSpec) (platform.Contact, error) {
	return platform.Contact{}, s.do()
}
func (s *stubClient) DeleteContact(context.Context, string) error { return s.do() }
func (s *stubClient) VerifyContact(context.Context, string, string) (platform.Contact, error) {
	return platform.Contact{}, s.do()
}
func (s *stubClient) ResendContactCode(context.Context, string) (platform.Contact, error) {
	return platform.Contact{}, s.do()
}

func (s *stubClient) ListActivity(context.Context, platform.ActivityQuery) (platform.ActivityPage, error) {
	return platform.ActivityPage{}, s.do()
}
