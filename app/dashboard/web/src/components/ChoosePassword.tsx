import { useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Button, ErrorNote, Field } from "../ui";

/**
 * A new password typed twice, for the forms that set one from an emailed link (an invitation,
 * a reset); `onChoose` gets it once both copies agree.
 */
export function ChoosePassword({
  username,
  submit,
  busy,
  error,
  onChoose,
}: {
  /** The account's address, for password managers, when the page knows it. */
  username?: string;
  submit: string;
  busy: boolean;
  error: ReactNode;
  onChoose: (password: string) => void;
}) {
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);

  function send(e: FormEvent) {
    e.preventDefault();
    setMismatch(password !== confirm);
    if (password === confirm) onChoose(password);
  }

  return (
    <form onSubmit={send} className="stack">
      {username && <input type="email" name="username" autoComplete="username" value={username} readOnly hidden />}
      <Field
        label="Password"
        type="password"
        autoComplete="new-password"
        required
        minLength={8}
        hint="At least 8 characters."
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <Field
        label="Confirm password"
        type="password"
        autoComplete="new-password"
        required
        error={mismatch ? "The two passwords differ." : undefined}
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
      />
      <ErrorNote>{error}</ErrorNote>
      <Button type="submit" variant="primary" busy={busy}>
        {submit}
      </Button>
    </form>
  );
}
