// Package crashtest holds ferry's black-box crash-safety tests: real hub and sender processes, killed and cut off at random, checked on disk.
package crashtest
