package commands

import (
	"log/slog"
	"time"

	"backupd/commands/secrets"
	"backupd/domain"

	"github.com/google/uuid"
)

// Deps are what the command handlers need.
type Deps struct {
	Store   EventStore
	Keyring *secrets.Keyring
	Checker ConnectionChecker
	Clock   func() time.Time // default time.Now
	Logger  *slog.Logger     // default slog.Default()
	// ResetTokenTTL is how long a password reset token stays valid
	// (default 60 minutes).
	ResetTokenTTL time.Duration
	// CheckTimeout bounds one connection check (default 30 s); the checkers
	// have their own shorter dial timeouts, this is the backstop.
	CheckTimeout time.Duration
}

// Handlers holds one handler per command, each wrapped in the logging
// decorator.
type Handlers struct {
	// Users
	RegisterUser         Handler[RegisterUser, uuid.UUID]
	Login                Handler[Login, *domain.User]
	Logout               Handler[Logout, Nothing]
	RequestPasswordReset Handler[RequestPasswordReset, PasswordReset]
	ResetPassword        Handler[ResetPassword, *domain.User]
	ChangePassword       Handler[ChangePassword, *domain.User]

	// Connections
	CreateConnection        Handler[CreateConnection, *domain.Connection]
	UpdateConnection        Handler[UpdateConnection, *domain.Connection]
	CheckConnection         Handler[CheckConnection, *domain.Connection]
	RefreshConnectionTokens Handler[RefreshConnectionTokens, *domain.Connection]
	DeleteConnection        Handler[DeleteConnection, Nothing]

	// Operations, as the administrator asks
	RequestBackup   Handler[RequestBackup, uuid.UUID]
	RequestRestore  Handler[RequestRestore, uuid.UUID]
	PauseOperation  Handler[PauseOperation, *domain.Operation]
	ResumeOperation Handler[ResumeOperation, *domain.Operation]
	CancelOperation Handler[CancelOperation, *domain.Operation]

	// Operations, as the executors and the process manager report
	ClaimOperation     Handler[ClaimOperation, *domain.Operation]
	MarkPaused         Handler[MarkPaused, *domain.Operation]
	CompleteBackup     Handler[CompleteBackup, *domain.Operation]
	RecordVerification Handler[RecordVerification, *domain.Operation]
	FailOperation      Handler[FailOperation, *domain.Operation]
	MarkCancelled      Handler[MarkCancelled, *domain.Operation]
	InterruptOperation Handler[InterruptOperation, *domain.Operation]
	DetachOperation    Handler[DetachOperation, Nothing]
}

// service is what every handler shares.
type service struct {
	store        EventStore
	keyring      *secrets.Keyring
	checker      ConnectionChecker
	clock        func() time.Time
	resetTTL     time.Duration
	checkTimeout time.Duration
	logger       *slog.Logger
}

func (s *service) now() time.Time { return s.clock().UTC() }

// New wires every handler. A missing store, keyring or checker is a wiring
// mistake and panics at start-up rather than failing the first request.
func New(d Deps) *Handlers {
	switch {
	case d.Store == nil:
		panic("commands.New: Deps.Store is nil")
	case d.Keyring == nil:
		panic("commands.New: Deps.Keyring is nil")
	case d.Checker == nil:
		panic("commands.New: Deps.Checker is nil")
	}
	s := &service{store: d.Store, keyring: d.Keyring, checker: d.Checker, clock: d.Clock,
		resetTTL: d.ResetTokenTTL, checkTimeout: d.CheckTimeout, logger: d.Logger}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.resetTTL <= 0 {
		s.resetTTL = 60 * time.Minute
	}
	if s.checkTimeout <= 0 {
		s.checkTimeout = 30 * time.Second
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	l := s.logger
	return &Handlers{
		RegisterUser:         withLogging[RegisterUser, uuid.UUID]("RegisterUser", l, registerUserHandler{s}),
		Login:                withLogging[Login, *domain.User]("Login", l, loginHandler{s}),
		Logout:               withLogging[Logout, Nothing]("Logout", l, logoutHandler{s}),
		RequestPasswordReset: withLogging[RequestPasswordReset, PasswordReset]("RequestPasswordReset", l, requestPasswordResetHandler{s}),
		ResetPassword:        withLogging[ResetPassword, *domain.User]("ResetPassword", l, resetPasswordHandler{s}),
		ChangePassword:       withLogging[ChangePassword, *domain.User]("ChangePassword", l, changePasswordHandler{s}),

		CreateConnection:        withLogging[CreateConnection, *domain.Connection]("CreateConnection", l, createConnectionHandler{s}),
		UpdateConnection:        withLogging[UpdateConnection, *domain.Connection]("UpdateConnection", l, updateConnectionHandler{s}),
		CheckConnection:         withLogging[CheckConnection, *domain.Connection]("CheckConnection", l, checkConnectionHandler{s}),
		RefreshConnectionTokens: withLogging[RefreshConnectionTokens, *domain.Connection]("RefreshConnectionTokens", l, refreshConnectionTokensHandler{s}),
		DeleteConnection:        withLogging[DeleteConnection, Nothing]("DeleteConnection", l, deleteConnectionHandler{s}),

		RequestBackup:   withLogging[RequestBackup, uuid.UUID]("RequestBackup", l, requestBackupHandler{s}),
		RequestRestore:  withLogging[RequestRestore, uuid.UUID]("RequestRestore", l, requestRestoreHandler{s}),
		PauseOperation:  withLogging[PauseOperation, *domain.Operation]("PauseOperation", l, pauseOperationHandler{s}),
		ResumeOperation: withLogging[ResumeOperation, *domain.Operation]("ResumeOperation", l, resumeOperationHandler{s}),
		CancelOperation: withLogging[CancelOperation, *domain.Operation]("CancelOperation", l, cancelOperationHandler{s}),

		ClaimOperation:     withLogging[ClaimOperation, *domain.Operation]("ClaimOperation", l, claimOperationHandler{s}),
		MarkPaused:         withLogging[MarkPaused, *domain.Operation]("MarkPaused", l, markPausedHandler{s}),
		CompleteBackup:     withLogging[CompleteBackup, *domain.Operation]("CompleteBackup", l, completeBackupHandler{s}),
		RecordVerification: withLogging[RecordVerification, *domain.Operation]("RecordVerification", l, recordVerificationHandler{s}),
		FailOperation:      withLogging[FailOperation, *domain.Operation]("FailOperation", l, failOperationHandler{s}),
		MarkCancelled:      withLogging[MarkCancelled, *domain.Operation]("MarkCancelled", l, markCancelledHandler{s}),
		InterruptOperation: withLogging[InterruptOperation, *domain.Operation]("InterruptOperation", l, interruptOperationHandler{s}),
		DetachOperation:    withLogging[DetachOperation, Nothing]("DetachOperation", l, detachOperationHandler{s}),
	}
}
