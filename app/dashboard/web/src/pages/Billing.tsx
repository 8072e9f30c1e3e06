import { useState } from "react";
import type { FormEvent } from "react";
import { Navigate } from "react-router";
import { api, authHeaders, call, NETWORK_ERROR, toApiError, type Schemas } from "../api/client";
import { useAuth } from "../auth";
import { formatNumber, formatPrice } from "../lib/format";
import { useAction, useLoad, useTitle } from "../lib/hooks";
import { Badge, Button, Card, ErrorNote, Field, Loading, Note, PageHeader, TextArea, TableWrap } from "../ui";

// an invoice's badge: paid is settled, the others are neutral
const INVOICE_TONE: Record<Schemas["InvoiceStatus"], string> = {
  draft: "neutral",
  issued: "neutral",
  paid: "ready",
  void: "neutral",
};

const thisMonth = () => new Date().toISOString().slice(0, 7);

/** The invoice's printable page needs the JWT, so it is fetched and opened as a blob. */
async function openPrintable(invoiceId: string) {
  const tab = window.open("", "_blank");
  const response = await fetch(`/api/billing/invoices/${invoiceId}?format=html`, {
    headers: { Accept: "text/html", ...authHeaders() },
  }).catch(() => {
    tab?.close();
    throw new Error(NETWORK_ERROR);
  });
  if (!response.ok) {
    tab?.close();
    throw toApiError(response, await response.json().catch(() => null));
  }
  const url = URL.createObjectURL(new Blob([await response.text()], { type: "text/html" }));
  if (tab) tab.location.href = url;
  else window.location.href = url;
}

export function Billing() {
  const { can } = useAuth();
  return can("billing") ? <BillingScreen /> : <Navigate to="/usage" replace />;
}

function BillingScreen() {
  useTitle("Billing");
  const info = useLoad(() => call(api.GET("/api/billing/info")), []);
  const invoices = useLoad(() => call(api.GET("/api/billing/invoices")), []);
  const generate = useAction(async () => {
    await call(api.POST("/api/billing/invoices/generate", { params: { query: { period: thisMonth() } } }));
    await invoices.reload();
  });
  const printable = useAction(openPrintable);

  return (
    <>
      <PageHeader title="Billing" description="Your plan, billing details and invoices." />
      <ErrorNote>{info.error}</ErrorNote>
      {info.loading ? <Loading label="Loading billing details…" /> : info.data && <BillingDetails info={info.data} onSaved={info.setData} />}
      <Card
        title="Invoices"
        actions={
          <Button busy={generate.busy} onClick={() => void generate.run()}>
            Update this month's draft
          </Button>
        }
      >
        <ErrorNote>{generate.error || invoices.error || printable.error}</ErrorNote>
        {invoices.loading ? (
          <Loading label="Loading invoices…" />
        ) : !invoices.data?.length ? (
          <p className="muted">
            No invoices yet. An invoice is issued after each month with usage; the running month's draft can be made at
            any time.
          </p>
        ) : (
          <TableWrap label="Invoice list">
            <table aria-label="Invoices">
              <thead>
                <tr>
                  <th>Number</th>
                  <th>Month</th>
                  <th>Status</th>
                  <th className="num">Amount</th>
                  <th>Due</th>
                  <th>
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {invoices.data.map((inv) => (
                  <tr key={inv.id}>
                    <td>{inv.invoice_number}</td>
                    <td>{inv.period}</td>
                    <td>
                      <Badge tone={INVOICE_TONE[inv.status]}>{inv.status}</Badge>
                    </td>
                    <td className="num">
                      {inv.amount} {inv.currency}
                    </td>
                    <td>{inv.due_date ?? "—"}</td>
                    <td>
                      <Button
                        className="btn-small"
                        onClick={() => void printable.run(inv.id)}
                        aria-label={`Printable page of ${inv.invoice_number}`}
                      >
                        Printable page
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Card>
    </>
  );
}

function BillingDetails({ info, onSaved }: { info: Schemas["BillingInfoOut"]; onSaved: (i: Schemas["BillingInfoOut"]) => void }) {
  const [email, setEmail] = useState(info.billing_email ?? "");
  const [address, setAddress] = useState(info.address ?? "");
  const [taxId, setTaxId] = useState(info.tax_id ?? "");
  const [retention, setRetention] = useState(String(info.retention_days));
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    const updated = await call(
      api.PATCH("/api/billing/info", {
        body: {
          billing_email: email.trim() || null,
          address: address.trim() || null,
          tax_id: taxId.trim() || null,
          retention_days: Number(retention),
        },
      }),
    );
    onSaved(updated);
    setSaved(true);
  });
  const plan = info.plan;
  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    void save.run();
  }
  return (
    <div className="grid-2">
      <Card title="Plan">
        <dl className="facts">
          <dt>Plan</dt>
          <dd className="capitalize">{plan.name}</dd>
          <dt>Monthly tokens</dt>
          <dd>{formatNumber(plan.monthly_tokens)}</dd>
          <dt>Price per 1,000 input tokens</dt>
          <dd>{formatPrice(plan.price_per_1k_input)}</dd>
          <dt>Price per 1,000 output tokens</dt>
          <dd>{formatPrice(plan.price_per_1k_output)}</dd>
          <dt>Past the allowance</dt>
          <dd>{plan.overage_allowed ? "Billed per token" : "Questions are refused"}</dd>
        </dl>
        <p className="hint">To change plan, contact us.</p>
      </Card>
      <Card title="Billing details">
        <form className="stack" onSubmit={submit}>
          <Field label="Billing email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          <TextArea label="Address" rows={3} maxLength={1000} value={address} onChange={(e) => setAddress(e.target.value)} />
          <Field label="Tax id" maxLength={64} value={taxId} onChange={(e) => setTaxId(e.target.value)} />
          <Field
            label="Keep chat history for (days)"
            type="number"
            min={1}
            max={3650}
            required
            value={retention}
            onChange={(e) => setRetention(e.target.value)}
          />
          <ErrorNote>{save.error}</ErrorNote>
          {saved && <Note tone="success">Billing details saved. Invoices already issued keep the old details.</Note>}
          <div className="row">
            <Button type="submit" variant="primary" busy={save.busy}>
              Save billing details
            </Button>
          </div>
        </form>
      </Card>
    </div>
  );
}

