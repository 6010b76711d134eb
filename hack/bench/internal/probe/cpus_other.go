//go:build !linux

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

package probe

import "errors"

var errNoAffinity = errors.New("--split-cpus needs Linux's CPU affinity")

func AllowedCPUs() ([]int, error)    { return nil, errNoAffinity }
func PinProcess(string, []int) error { return errNoAffinity }
