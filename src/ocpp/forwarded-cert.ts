import { X509Certificate } from 'node:crypto';

/**
 * OCPP Security Profile 3 behind a TLS-terminating proxy (docs/operations.md "Load balancer"):
 * the proxy verifies the charger's client certificate and forwards it in a header; nginx sends it
 * URL-encoded PEM ($ssl_client_escaped_cert), HAProxy base64 DER (%[ssl_c_der,base64]). Dynamo
 * trusts that header only when told to (DYNAMO_TRUST_PROXY and DYNAMO_CLIENT_CERT_HEADER), and even
 * then checks the certificate itself against DYNAMO_TLS_CA: a proxy misconfigured to pass on
 * whatever a client sent still admits no certificate the CA did not sign.
 */
export class ForwardedClientCert {
  constructor(
    readonly header: string,
    private readonly ca: X509Certificate,
  ) {}

  /** The subject CN of the forwarded certificate, if it is one the CA signed and valid now. */
  commonName(value: string | string[] | undefined, now = new Date()): string | undefined {
    if (typeof value !== 'string' || value.length === 0 || value.length > 16_384) return undefined;
    let cert: X509Certificate;
    try {
      const text = decodeURIComponent(value);
      cert = new X509Certificate(text.includes('-----BEGIN CERTIFICATE-----') ? text : Buffer.from(text, 'base64'));
    } catch {
      return undefined;
    }
    if (!cert.checkIssued(this.ca) || !cert.verify(this.ca.publicKey)) return undefined;
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return undefined;
    const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1];
    return cn;
  }
}
