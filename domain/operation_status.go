package domain

// OperationStatus is where an operation stands. It changes only through the
// transitions listed in allowedTransitions.
type OperationStatus string

const (
	OpPending     OperationStatus = "pending"
	OpRunning     OperationStatus = "running"
	OpPaused      OperationStatus = "paused"
	OpInterrupted OperationStatus = "interrupted" // its worker stopped; resumable like a paused one
	OpCompleted   OperationStatus = "completed"
	OpFailed      OperationStatus = "failed"
	OpCancelled   OperationStatus = "cancelled"
)

// AllOperationStatuses in display order.
var AllOperationStatuses = []OperationStatus{OpPending, OpRunning, OpPaused, OpInterrupted, OpCompleted, OpFailed, OpCancelled}

var allowedTransitions = map[OperationStatus][]OperationStatus{
	OpPending:     {OpRunning, OpPaused, OpCancelled},
	OpRunning:     {OpPaused, OpInterrupted, OpCompleted, OpFailed, OpCancelled},
	OpPaused:      {OpPending, OpCancelled},
	OpInterrupted: {OpPending, OpCancelled},
}

// CanTransition reports whether the domain allows from -> to.
func CanTransition(from, to OperationStatus) bool {
	for _, s := range allowedTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Terminal statuses never change again.
func (s OperationStatus) Terminal() bool {
	return s == OpCompleted || s == OpFailed || s == OpCancelled
}

// Active statuses hold their connections (they cannot be deleted).
func (s OperationStatus) Active() bool { return s != "" && !s.Terminal() }

func (s OperationStatus) Valid() bool {
	for _, v := range AllOperationStatuses {
		if v == s {
			return true
		}
	}
	return false
}
