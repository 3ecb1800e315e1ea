using System.Text;
using OpenMavn.Core;
using OpenMavn.Samples.QrBillPayments.Receipts;

namespace OpenMavn.Samples.QrBillPayments.Tests;

public sealed class Camt054ReaderTests
{
    internal static Stream Sample(string name) => File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Samples", name));

    [Fact]
    public async Task Version_04_booked_credits_are_read_per_transaction()
    {
        await using var file = Sample("camt054-v04.xml");
        var document = await Camt054Reader.ReadAsync(file, 1_000_000);

        Assert.Equal("MSG-20261201-0001", document.MessageId);
        Assert.Equal("camt.054.001.04", document.Version);
        Assert.Equal(2, document.Skipped); // the pending entry and the debit
        Assert.Collection(
            document.Credits,
            c =>
            {
                Assert.Equal("CH4431999123000889012", c.AccountIban);
                Assert.Equal("tx:TX-20261201-0001", c.DedupeKey);
                Assert.Equal("TX-20261201-0001", c.BankReference);
                Assert.Equal("000000000000000000000000011", c.Reference);
                Assert.Equal(4500, c.Amount);
                Assert.Equal("CHF", c.Currency);
                Assert.Equal(new DateOnly(2026, 12, 1), c.BookedOn);
            },
            c =>
            {
                Assert.Equal("000000000000000000000000026", c.Reference); // written with spaces in the file
                Assert.Equal(5000, c.Amount);
            },
            c =>
            {
                Assert.Equal("000000000000000000000000992", c.Reference);
                Assert.Equal(1200, c.Amount);
            });
    }

    [Fact]
    public async Task Version_08_reads_the_status_code()
    {
        await using var file = Sample("camt054-v08.xml");
        var document = await Camt054Reader.ReadAsync(file, 1_000_000);

        Assert.Equal("camt.054.001.08", document.Version);
        Assert.Equal(0, document.Skipped);
        Assert.Equal([4000L, 5000L, 4500L], document.Credits.Select(c => c.Amount));
        Assert.Equal(["tx:TX-20261202-0001", "tx:TX-20261202-0002", "tx:TX-20261202-0003"], document.Credits.Select(c => c.DedupeKey));
    }

    [Fact]
    public void Without_transaction_references_the_entry_reference_and_position_identify_a_payment()
    {
        var xml = Camt("08", """
            <Ntry><Amt Ccy="CHF">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><AcctSvcrRef>E1</AcctSvcrRef>
              <NtryDtls><TxDtls><Amt Ccy="CHF">4.00</Amt><RmtInf><Strd><CdtrRefInf><Ref>000000000000000000000000011</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
                        <TxDtls><Amt Ccy="CHF">6.00</Amt><RmtInf><Strd><CdtrRefInf><Ref>12345</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
            <Ntry><Amt Ccy="EUR">3.10</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts></Ntry>
            """);
        var first = Camt054Reader.Read(new MemoryStream(Encoding.UTF8.GetBytes(xml)), 1_000_000);
        var second = Camt054Reader.Read(new MemoryStream(Encoding.UTF8.GetBytes(xml)), 1_000_000);

        Assert.Equal(["ntry:E1#1", "ntry:E1#2"], first.Credits.Take(2).Select(c => c.DedupeKey));
        Assert.Null(first.Credits[1].Reference); // not a valid QRR
        Assert.Equal("12345", first.Credits[1].RawReference);
        Assert.StartsWith("msg:", first.Credits[2].DedupeKey, StringComparison.Ordinal);
        Assert.Equal(first.Credits[2].DedupeKey, second.Credits[2].DedupeKey);
        Assert.Equal(310, first.Credits[2].Amount);
    }

    [Fact]
    public void A_DTD_is_refused_so_no_external_entity_is_read()
    {
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "000000000000000000000000011");
        try
        {
            var xml = $"""
                <?xml version="1.0"?>
                <!DOCTYPE Document [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>
                <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>&xxe;</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn></Document>
                """;
            var error = Assert.Throws<ValidationFailedException>(() => Camt054Reader.Read(new MemoryStream(Encoding.UTF8.GetBytes(xml)), 1_000_000));
            Assert.Contains("DTD", error.Errors["file"][0], StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public void An_entity_expansion_bomb_is_refused()
    {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">&lol2;</Document>
            """;
        Assert.Throws<ValidationFailedException>(() => Camt054Reader.Read(new MemoryStream(Encoding.UTF8.GetBytes(xml)), 1_000_000));
    }

    [Fact]
    public async Task Too_large_a_file_is_refused_before_it_is_parsed()
    {
        var xml = Camt("08", string.Concat(Enumerable.Repeat("<Ntry><Amt Ccy=\"CHF\">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts></Ntry>", 200)));
        var error = await Assert.ThrowsAsync<ValidationFailedException>(() => Camt054Reader.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(xml)), 4096));
        Assert.Contains("larger", error.Errors["file"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"/>")]
    [InlineData("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02\"/>")]
    [InlineData("<Other/>")]
    [InlineData("not xml")]
    [InlineData("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.08\"><BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>M</MsgId></GrpHdr><Ntfctn><Ntry><Amt Ccy=\"CHF\">1.234</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts></Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>")]
    public void Anything_else_is_refused_with_a_reason(string xml) =>
        Assert.Throws<ValidationFailedException>(() => Camt054Reader.Read(new MemoryStream(Encoding.UTF8.GetBytes(xml)), 1_000_000));

    internal static string Camt(string version, string entries) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.{version}">
          <BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>MSG-{Guid.NewGuid():N}</MsgId></GrpHdr>
            <Ntfctn><Id>N1</Id><Acct><Id><IBAN>CH4431999123000889012</IBAN></Id></Acct>{entries}</Ntfctn>
          </BkToCstmrDbtCdtNtfctn>
        </Document>
        """;
}
