// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Baseline for the ledger gas bench: plain OpenZeppelin ERC-1155, one token id per voucher.
/// @notice The platform (owner) mints, burns, and moves tokens between custodial accounts as an approved operator,
/// one operation per transaction. Not used in production; it only gives the bench a yardstick.
contract BaselineVouchers1155 is ERC1155, Ownable {
    constructor(address owner_) ERC1155("") Ownable(owner_) {}

    /// @notice Issues a voucher: mints `amount` of token `id` to `to`.
    function mint(address to, uint256 id, uint256 amount) external onlyOwner {
        _mint(to, id, amount, "");
    }

    /// @notice Redeems a voucher: burns `amount` of token `id` held by `from`.
    function burn(address from, uint256 id, uint256 amount) external onlyOwner {
        _burn(from, id, amount);
    }

    /// @notice Custodial accounts approve the platform for all their tokens.
    function isApprovedForAll(address account, address operator) public view override returns (bool) {
        return operator == owner() || super.isApprovedForAll(account, operator);
    }
}
